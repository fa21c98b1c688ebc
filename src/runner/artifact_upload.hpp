// Copies a batch's files (attachments, blob report, files tests wrote) into the run's storage,
// using the storage key layout of docs/formats.md.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "aws/system.hpp"
#include "plugins/model.hpp"
#include "util/result.hpp"

namespace hypertest::runner {

namespace fs = std::filesystem;

// Keys are relative to the store root and already carry StorageLocation::prefix.
struct UploadReport {
    std::string blob_report_key;
    std::vector<std::string> test_artifact_keys;  // <runId>/artifacts/<invocationId>/...
    std::vector<std::string> problems;            // files that could not be copied
};

// Where the runner writes objects. "local" is a directory; "s3" a bucket.
class ArtifactSink {
public:
    virtual ~ArtifactSink() = default;
    virtual util::Status put_file(const std::string& key, const fs::path& file) = 0;
};

// Fails when the location's kind is not supported or its root is unusable.
util::Result<std::unique_ptr<ArtifactSink>> make_artifact_sink(
    const plugins::StorageLocation& location);

// An "s3" sink whose credentials are the function's own environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), region location.region (else AWS_REGION), and
// endpoint AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL when set. Uploads carry a Content-Type from
// the file name and are retried on throttling and server errors.
util::Result<std::unique_ptr<ArtifactSink>> make_s3_artifact_sink(
    const plugins::StorageLocation& location, const aws::System& system);

struct UploadInput {
    const plugins::InvocationEvent& event;
    std::vector<plugins::TestOutcome>& outcomes;  // artifact_keys are filled in
    fs::path blob_report;                         // empty: none
    fs::path test_artifacts_dir;                  // empty or missing: none
};

// Copies attachments to <runId>/<testId>/attempt-<attempt>/<file name> (names deduplicated),
// the blob report to <runId>/blobs/<invocationId>.zip and test output files to
// <runId>/artifacts/<invocationId>/<relative path>. Symlinks are skipped, never followed.
// A file that cannot be copied is listed in problems; the rest still goes up.
UploadReport upload_artifacts(ArtifactSink& sink, const UploadInput& input);

}  // namespace hypertest::runner
