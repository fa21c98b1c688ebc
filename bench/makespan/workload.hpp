// The makespan bench's pure part: a seeded heavy-tailed workload, the strategies that turn it
// into batches, the lower bound, and a list-scheduling estimate of a batch order on C slots.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/planner.hpp"

namespace hypertest::bench {

struct WorkloadSpec {
    int tests = 1000;
    std::uint64_t seed = 20261127;
    double median_ms = 3000;  // lognormal: median x exp(sigma x N(0,1))
    double sigma = 1.0;
    double min_ms = 50;
    double max_ms = 60000;  // the tail is clipped here
};

struct Workload {
    std::vector<plugins::TestCase> tests;        // discovery order
    std::map<std::string, double> durations_ms;  // test id -> duration
};

struct Stats {
    double sum = 0, mean = 0, median = 0, p90 = 0, p99 = 0, max = 0;
    int at_cap = 0;  // tests clipped to max_ms
};

// Same spec, same workload, on any platform (own normal deviates from std::mt19937_64).
Workload make_workload(const WorkloadSpec& spec);
Stats describe(const Workload& w, const WorkloadSpec& spec);

// max(longest + start-up, (sum + min(N, C) x start-up) / C): no plan on C slots with start-up
// paid once per invocation can finish sooner.
double lower_bound_ms(const Workload& w, int concurrency, double startup_ms);

// Baselines. Each keeps discovery order inside a batch and dispatches batches in order.
std::vector<core::Batch> one_per_test(const Workload& w);
std::vector<core::Batch> round_robin(const Workload& w, int shards);
std::vector<core::Batch> random_shards(const Workload& w, int shards, std::uint64_t seed);

// Makespan of dispatching `batches` in order onto `concurrency` slots (each slot takes the
// next batch when free), start-up paid per batch.
double list_schedule_ms(const std::vector<core::Batch>& batches, int concurrency, double startup_ms);

}  // namespace hypertest::bench
