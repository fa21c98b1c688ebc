#include "core/planner.hpp"

#include <algorithm>
#include <cmath>

namespace hypertest::core {
namespace {

struct Unit {
    std::vector<plugins::TestCase> tests;
    double estimate = 0;
    int order = 0;
};

std::vector<Unit> make_units(const std::vector<plugins::TestCase>& tests, const PlanInput& in) {
    std::vector<Unit> units;
    std::map<std::string, std::size_t> by_group;
    for (const auto& t : tests) {
        if (!t.group.empty()) {
            auto [it, fresh] = by_group.emplace(t.group, units.size());
            if (fresh) units.push_back(Unit{{}, 0, t.order});
            Unit& u = units[it->second];
            u.tests.push_back(t);
            u.estimate += estimate_ms(in, t);
            u.order = std::min(u.order, t.order);
        } else {
            units.push_back(Unit{{t}, estimate_ms(in, t), t.order});
        }
    }
    for (auto& u : units) {
        std::stable_sort(u.tests.begin(), u.tests.end(),
                         [](const auto& a, const auto& b) { return a.order < b.order; });
    }
    // Longest first; ties in discovery order so plans are deterministic.
    std::stable_sort(units.begin(), units.end(), [](const Unit& a, const Unit& b) {
        return a.estimate != b.estimate ? a.estimate > b.estimate : a.order < b.order;
    });
    return units;
}

std::vector<Batch> pack(std::vector<Unit> units, int bins) {
    std::vector<Batch> batches(static_cast<std::size_t>(std::max(1, bins)));
    for (auto& u : units) {
        auto lightest = std::min_element(batches.begin(), batches.end(), [](const Batch& a, const Batch& b) {
            return a.estimate_ms < b.estimate_ms;
        });
        lightest->estimate_ms += u.estimate;
        for (auto& t : u.tests) lightest->tests.push_back(std::move(t));
    }
    std::erase_if(batches, [](const Batch& b) { return b.tests.empty(); });
    for (auto& b : batches) {
        // Whole groups were appended in unit order; keep each group's internal order but run
        // the batch in discovery order where groups allow (stable on order).
        std::stable_sort(b.tests.begin(), b.tests.end(),
                         [](const auto& x, const auto& y) { return x.order < y.order; });
    }
    std::stable_sort(batches.begin(), batches.end(),
                     [](const Batch& a, const Batch& b) { return a.estimate_ms > b.estimate_ms; });
    return batches;
}

}  // namespace

double estimate_ms(const PlanInput& in, const plugins::TestCase& t) {
    if (auto it = in.durations_ms.find(t.id); it != in.durations_ms.end()) return std::max(1.0, it->second);
    if (auto it = in.file_default_ms.find(t.file); it != in.file_default_ms.end()) return it->second;
    return in.default_ms;
}

void estimate_unknown_tests(PlanInput& in) {
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        std::size_t n = v.size();
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    };
    std::map<std::string, std::vector<double>> by_file;
    std::vector<double> all;
    for (const auto& t : in.tests) {
        auto it = in.durations_ms.find(t.id);
        if (it == in.durations_ms.end()) continue;
        double d = std::max(1.0, it->second);
        by_file[t.file].push_back(d);
        all.push_back(d);
    }
    in.file_default_ms.clear();
    for (auto& [file, known] : by_file) in.file_default_ms[file] = median(std::move(known));
    if (!all.empty()) in.default_ms = median(std::move(all));
}

std::vector<Batch> split_tests(const std::vector<plugins::TestCase>& tests, int parts,
                               const PlanInput& estimates) {
    auto units = make_units(tests, estimates);
    int bins = std::min<int>(std::max(1, parts), static_cast<int>(units.size()));
    return pack(std::move(units), bins);
}

Plan make_plan(const PlanInput& in) {
    Plan plan;
    if (in.tests.empty()) return plan;
    auto units = make_units(in.tests, in);
    int c = std::max(1, in.concurrency);
    double total = 0, longest_test = 0;
    for (const auto& t : in.tests) {
        double e = estimate_ms(in, t);
        total += e;
        longest_test = std::max(longest_test, e);
    }
    int bins;
    if (static_cast<int>(units.size()) <= c) {
        bins = static_cast<int>(units.size());  // one unit (usually one test) per invocation
    } else {
        bins = c;
        if (in.max_batch_ms > 0) {
            int needed = static_cast<int>(std::ceil(total / in.max_batch_ms));
            bins = std::max(bins, std::min<int>(needed, static_cast<int>(units.size())));
        }
    }
    plan.batches = pack(std::move(units), bins);
    double n = static_cast<double>(plan.batches.size());
    plan.startup_ms = in.startup_ms;
    plan.lower_bound_ms = std::max(longest_test + in.startup_ms, (total + n * in.startup_ms) / c);
    // Estimate of this plan on C slots: list-schedule batches longest first.
    std::vector<double> slots(static_cast<std::size_t>(c), 0.0);
    for (const auto& b : plan.batches) {
        auto s = std::min_element(slots.begin(), slots.end());
        *s += b.estimate_ms + in.startup_ms;
    }
    plan.makespan_ms = *std::max_element(slots.begin(), slots.end());
    return plan;
}

Requeue plan_requeue(const std::vector<plugins::TestCase>& unfinished, const std::set<std::string>& running,
                     int attempt, int invocation_retries, const PlanInput& estimates) {
    std::set<std::string> suspect_groups;  // a serial group goes with its suspect
    for (const auto& t : unfinished) {
        if (running.count(t.id) && !t.group.empty()) suspect_groups.insert(t.group);
    }
    std::vector<plugins::TestCase> suspects, innocent;
    for (const auto& t : unfinished) {
        bool suspect = running.count(t.id) || suspect_groups.count(t.group);
        (suspect ? suspects : innocent).push_back(t);
    }
    if (suspects.empty()) suspects.swap(innocent);
    auto halves = [](const std::vector<plugins::TestCase>& v) { return std::min<int>(2, static_cast<int>(v.size())); };
    Requeue out;
    if (!innocent.empty()) {
        for (auto& b : split_tests(innocent, halves(innocent), estimates)) out.again.push_back({std::move(b), attempt});
    }
    if (attempt > invocation_retries) {
        out.given_up = std::move(suspects);
        return out;
    }
    int parts = innocent.empty() ? halves(suspects) : static_cast<int>(suspects.size());
    for (auto& b : split_tests(suspects, parts, estimates)) out.again.push_back({std::move(b), attempt + 1});
    return out;
}

}  // namespace hypertest::core
