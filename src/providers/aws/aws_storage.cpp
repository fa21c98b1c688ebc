#include "providers/aws/aws_storage.hpp"

#include <atomic>

#include "aws/redact.hpp"
#include "util/time.hpp"

namespace hypertest::providers {
namespace {

util::Status check_key(const std::string& key) {
    if (key.empty() || key.front() == '/')
        return util::make_error("invalid storage key \"" + key + "\"");
    for (const auto& part : fs::path(key)) {
        if (part == "..") return util::make_error("invalid storage key \"" + key + "\" (..)");
    }
    return util::ok_status();
}

class S3Storage : public Storage {
  public:
    explicit S3Storage(AwsClients& clients)
        : m_clients(clients), m_bucket(clients.settings().bucket) {}

    util::Status put(const std::string& key, std::string_view bytes) override {
        if (auto s = ready(key); !s) return s;
        return m_clients.s3().put_object(m_bucket, key, std::string(bytes),
                                         aws::content_type_for(key));
    }

    util::Status put_file(const std::string& key, const fs::path& file) override {
        if (auto s = ready(key); !s) return s;
        return m_clients.s3().put_file(m_bucket, key, file, aws::content_type_for(key));
    }

    util::Result<std::optional<std::string>> get(const std::string& key) override {
        if (auto s = ready(key); !s) return s.error();
        return m_clients.s3().find_object(m_bucket, key);
    }

    std::string url(const std::string& key) const override {
        return "s3://" + m_bucket + "/" + key;
    }

    plugins::StorageLocation location() const override {
        plugins::StorageLocation l;
        l.kind = "s3";
        l.bucket = m_bucket;
        l.region = m_clients.region();
        return l;
    }

    util::Status check_writable() override {
        static std::atomic<unsigned> serial{0};
        std::string key = "_hypertest/" + m_clients.settings().function_name + "/.write-probe-" +
                          std::to_string(util::now_ms()) + "-" + std::to_string(++serial);
        if (auto s = put(key, "probe"); !s) return writable_error(s.error());
        if (auto s = m_clients.s3().delete_object(m_bucket, key); !s)
            return writable_error(s.error());
        return util::ok_status();
    }

  private:
    util::Status ready(const std::string& key) const {
        if (m_bucket.empty()) return m_clients.usable();
        return check_key(key);
    }

    util::Error writable_error(const util::Error& e) const {
        return util::make_error("cannot write to s3://" + m_bucket + "/ (" + e.message +
                                    "); check that the bucket exists in " + m_clients.region() +
                                    " and that the credentials allow s3:PutObject, s3:GetObject, "
                                    "s3:DeleteObject and s3:ListBucket on it",
                                e.retryable);
    }

    AwsClients& m_clients;
    std::string m_bucket;
};

}  // namespace

std::unique_ptr<Storage> make_s3_storage(AwsClients& clients) {
    return std::make_unique<S3Storage>(clients);
}

}  // namespace hypertest::providers
