// Combines the Playwright blob reports of one hypertest run into one blob report.
//
// merge-reports keeps separate blobs apart: a test id already seen in an earlier blob gets a
// suffix, so a test that hypertest ran in several invocations (its retries) would appear once per
// attempt. In the combined blob every test appears once, and the attempts it made in separate
// invocations are its results, with retry 0..n in the order the invocations started, exactly as
// Playwright records retries it runs itself. merge-reports then shows such a test as flaky (or
// failed) with its retries.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace hypertest::plugins::playwright {

namespace fs = std::filesystem;

// The blob format version this code understands (Playwright's currentBlobReportVersion).
inline constexpr int k_blob_report_version = 2;

// `reports` are the texts of the blobs' report.jsonl files (one JSON event per line). Returns
// the combined report.jsonl. Fails when a report is not a blob report of the version above.
util::Result<std::string> combine_blob_events(const std::vector<std::string>& reports);

// Reads the blob zips `blobs` and writes `out_zip`: the combined report.jsonl plus every other
// entry of the blobs (attachments under resources/, names made unique by Playwright). Fails on an
// unreadable zip or a report combine_blob_events refuses.
util::Status combine_blobs(const std::vector<fs::path>& blobs, const fs::path& out_zip);

}  // namespace hypertest::plugins::playwright
