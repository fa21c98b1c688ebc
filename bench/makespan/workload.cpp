#include "workload.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <random>

namespace hypertest::bench {
namespace {

// A uniform deviate in (0, 1] from 53 random bits.
double uniform(std::mt19937_64& rng) {
    return static_cast<double>((rng() >> 11) + 1) * (1.0 / 9007199254740992.0);
}

// Box-Muller; std::normal_distribution differs between standard libraries.
double normal(std::mt19937_64& rng) {
    constexpr double k_two_pi = 6.283185307179586;
    double u1 = uniform(rng), u2 = uniform(rng);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(k_two_pi * u2);
}

double quantile(std::vector<double> sorted, double q) {
    std::size_t i = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1));
    return sorted[i];
}

core::Batch batch_of(const Workload& w, const std::vector<std::size_t>& indexes) {
    core::Batch b;
    for (auto i : indexes) {
        b.tests.push_back(w.tests[i]);
        b.estimate_ms += w.durations_ms.at(w.tests[i].id);
    }
    return b;
}

}  // namespace

Workload make_workload(const WorkloadSpec& spec) {
    std::mt19937_64 rng(spec.seed);
    Workload w;
    for (int i = 0; i < spec.tests; ++i) {
        plugins::TestCase t;
        char name[32];
        std::snprintf(name, sizeof name, "t%04d", i);
        t.file = "bench/spec" + std::to_string(i / 10) + ".spec.ts";
        t.title_path = {name};
        t.id = plugins::make_test_id("", t.file, t.title_path);
        t.order = i;
        double ms = spec.median_ms * std::exp(spec.sigma * normal(rng));
        w.durations_ms[t.id] = std::round(std::clamp(ms, spec.min_ms, spec.max_ms));
        w.tests.push_back(std::move(t));
    }
    return w;
}

Stats describe(const Workload& w, const WorkloadSpec& spec) {
    Stats s;
    std::vector<double> d;
    for (const auto& [id, ms] : w.durations_ms) {
        d.push_back(ms);
        s.sum += ms;
        if (ms >= spec.max_ms) ++s.at_cap;
    }
    if (d.empty()) return s;
    std::sort(d.begin(), d.end());
    s.mean = s.sum / static_cast<double>(d.size());
    s.median = quantile(d, 0.5);
    s.p90 = quantile(d, 0.9);
    s.p99 = quantile(d, 0.99);
    s.max = d.back();
    return s;
}

double lower_bound_ms(const Workload& w, int concurrency, double startup_ms) {
    double sum = 0, longest = 0;
    for (const auto& [id, ms] : w.durations_ms) {
        sum += ms;
        longest = std::max(longest, ms);
    }
    double c = std::max(1, concurrency);
    double slots_used = std::min<double>(c, static_cast<double>(w.tests.size()));
    return std::max(longest + startup_ms, (sum + slots_used * startup_ms) / c);
}

std::vector<core::Batch> one_per_test(const Workload& w) {
    std::vector<core::Batch> out;
    for (std::size_t i = 0; i < w.tests.size(); ++i) out.push_back(batch_of(w, {i}));
    return out;
}

std::vector<core::Batch> round_robin(const Workload& w, int shards) {
    std::vector<std::vector<std::size_t>> idx(static_cast<std::size_t>(std::max(1, shards)));
    for (std::size_t i = 0; i < w.tests.size(); ++i) idx[i % idx.size()].push_back(i);
    std::vector<core::Batch> out;
    for (const auto& ix : idx)
        if (!ix.empty()) out.push_back(batch_of(w, ix));
    return out;
}

std::vector<core::Batch> random_shards(const Workload& w, int shards, std::uint64_t seed) {
    std::vector<std::size_t> order(w.tests.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937_64 rng(seed);
    // Fisher-Yates with our own bounded draw (std::shuffle is library-specific).
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
    std::vector<std::vector<std::size_t>> idx(static_cast<std::size_t>(std::max(1, shards)));
    for (std::size_t k = 0; k < order.size(); ++k) idx[k % idx.size()].push_back(order[k]);
    std::vector<core::Batch> out;
    for (auto& ix : idx) {
        std::sort(ix.begin(), ix.end());
        if (!ix.empty()) out.push_back(batch_of(w, ix));
    }
    return out;
}

double list_schedule_ms(const std::vector<core::Batch>& batches, int concurrency, double startup_ms) {
    std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
    for (int i = 0; i < std::max(1, concurrency); ++i) free_at.push(0);
    double end = 0;
    for (const auto& b : batches) {
        double start = free_at.top();
        free_at.pop();
        double done = start + startup_ms + b.estimate_ms;
        end = std::max(end, done);
        free_at.push(done);
    }
    return end;
}

}  // namespace hypertest::bench
