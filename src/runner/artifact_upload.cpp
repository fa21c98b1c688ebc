#include "runner/artifact_upload.hpp"

#include <set>
#include <system_error>

#include "aws/credentials.hpp"
#include "aws/endpoints.hpp"
#include "aws/s3_client.hpp"
#include "util/fs.hpp"
#include "util/nofollow.hpp"

namespace hypertest::runner {
namespace {

class LocalSink : public ArtifactSink {
public:
    LocalSink(fs::path root, std::string prefix) : m_root(std::move(root)), m_prefix(std::move(prefix)) {}

    // The storage folder is writable by every test of the sandbox: no link in it is followed.
    util::Status put_file(const std::string& key, const fs::path& file) override {
        return util::copy_below(m_root, m_prefix + key, file);
    }

private:
    fs::path m_root;
    std::string m_prefix;
};

class S3Sink : public ArtifactSink {
public:
    S3Sink(std::unique_ptr<aws::S3Client> s3, std::string bucket, std::string prefix)
        : m_s3(std::move(s3)), m_bucket(std::move(bucket)), m_prefix(std::move(prefix)) {}

    util::Status put_file(const std::string& key, const fs::path& file) override {
        std::string full = m_prefix + key;
        for (const auto& part : fs::path(full)) {
            if (part == "..") return util::make_error("refusing storage key with '..': " + key);
        }
        return m_s3->put_file(m_bucket, full, file, aws::content_type_for(full));
    }

private:
    std::unique_ptr<aws::S3Client> m_s3;
    std::string m_bucket;
    std::string m_prefix;
};

bool is_regular_not_symlink(const fs::path& p) {
    std::error_code ec;
    auto st = fs::symlink_status(p, ec);
    return !ec && fs::is_regular_file(st);
}

// "a.png", "a.png" -> "a.png", "a-1.png".
std::string unique_name(const std::string& name, std::set<std::string>& used) {
    if (used.insert(name).second) return name;
    fs::path p(name);
    std::string stem = p.stem().string(), ext = p.extension().string();
    for (int i = 1;; ++i) {
        std::string cand = stem + "-" + std::to_string(i) + ext;
        if (used.insert(cand).second) return cand;
    }
}

void put(ArtifactSink& sink, const std::string& key, const fs::path& file,
         const std::string& prefix, UploadReport& report, std::vector<std::string>& keys) {
    auto s = sink.put_file(key, file);
    if (s) {
        keys.push_back(prefix + key);
    } else {
        report.problems.push_back(s.error().message);
    }
}

void upload_test_outputs(ArtifactSink& sink, const UploadInput& in, const std::string& prefix,
                         UploadReport& report) {
    std::error_code ec;
    if (in.test_artifacts_dir.empty() || !fs::is_directory(in.test_artifacts_dir, ec)) return;
    // Default options: directory symlinks are not followed; file symlinks are skipped below.
    fs::recursive_directory_iterator it(in.test_artifacts_dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file() || it->is_symlink()) continue;
        std::string rel = util::relative_slash(it->path(), in.test_artifacts_dir);
        std::string key = in.event.run_id + "/artifacts/" + in.event.invocation_id + "/" + rel;
        put(sink, key, it->path(), prefix, report, report.test_artifact_keys);
    }
    if (ec) report.problems.push_back("cannot list " + in.test_artifacts_dir.string() + ": " + ec.message());
}

}  // namespace

util::Result<std::unique_ptr<ArtifactSink>> make_artifact_sink(
    const plugins::StorageLocation& location) {
    if (location.kind == "local") {
        if (location.root.empty() || !fs::path(location.root).is_absolute())
            return util::make_error("local storage location needs an absolute root directory");
        return std::unique_ptr<ArtifactSink>(new LocalSink(location.root, location.prefix));
    }
    if (location.kind == "s3") return make_s3_artifact_sink(location, aws::real_system());
    return util::make_error("unknown storage kind \"" + location.kind + "\"");
}

util::Result<std::unique_ptr<ArtifactSink>> make_s3_artifact_sink(
    const plugins::StorageLocation& location, const aws::System& system) {
    if (location.bucket.empty()) return util::make_error("s3 storage location has no bucket");
    std::string region = location.region;
    if (region.empty()) {
        auto resolved = aws::resolve_region(system);
        if (!resolved) return resolved.error();
        region = *resolved;
    }
    auto endpoint = aws::resolve_endpoint(system, "S3", region);
    if (!endpoint) return endpoint.error();
    aws::S3Config config;
    config.endpoint = std::move(*endpoint);
    config.http = system.http;
    // Inside Lambda the execution role's keys are in the environment, with a session token.
    config.credentials = std::shared_ptr<aws::CredentialsProvider>(aws::make_env_provider(system));
    config.now_ms = system.now_ms;
    return std::unique_ptr<ArtifactSink>(
        new S3Sink(aws::make_s3_client(std::move(config)), location.bucket, location.prefix));
}

UploadReport upload_artifacts(ArtifactSink& sink, const UploadInput& in) {
    UploadReport report;
    const std::string& prefix = in.event.storage.prefix;
    const std::string attempt = "attempt-" + std::to_string(in.event.attempt);
    for (auto& outcome : in.outcomes) {
        std::set<std::string> used;
        for (const auto& a : outcome.attachments) {
            if (a.path.empty()) continue;
            if (!is_regular_not_symlink(a.path)) {
                report.problems.push_back("attachment " + a.path.string() +
                                          " is missing or not a regular file");
                continue;
            }
            std::string name = unique_name(a.path.filename().string(), used);
            std::string key = in.event.run_id + "/" + outcome.id + "/" + attempt + "/" + name;
            put(sink, key, a.path, prefix, report, outcome.artifact_keys);
        }
    }
    if (!in.blob_report.empty()) {
        if (is_regular_not_symlink(in.blob_report)) {
            std::vector<std::string> keys;
            put(sink, in.event.run_id + "/blobs/" + in.event.invocation_id + ".zip", in.blob_report,
                prefix, report, keys);
            if (!keys.empty()) report.blob_report_key = keys.front();
        } else {
            report.problems.push_back("blob report " + in.blob_report.string() + " is missing");
        }
    }
    upload_test_outputs(sink, in, prefix, report);
    return report;
}

}  // namespace hypertest::runner
