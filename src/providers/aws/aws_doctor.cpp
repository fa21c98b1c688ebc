#include "providers/aws/aws_doctor.hpp"

#include <algorithm>

#include "aws/redact.hpp"
#include "util/strings.hpp"

namespace hypertest::providers {
namespace {

constexpr int k_min_memory_mb = 2048;  // Chromium and Node side by side
constexpr int k_min_timeout_s = 60;

const char* k_credentials_fix =
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE, or "
    "run "
    "where a role is attached; check the system clock";

class Doctor {
  public:
    Doctor(AwsClients& clients, Storage& storage, int concurrency)
        : m_c(clients), m_storage(storage), m_concurrency(concurrency) {}

    std::vector<DoctorCheck> run() {
        bool configured = m_c.problems().empty();
        add(check_config());
        bool have_identity = add(check_credentials());
        auto skipped = [](const std::string& name) {
            return DoctorCheck{name, false,
                               "skipped: the configuration or the credentials are not usable",
                               "fix the checks above first"};
        };
        if (!configured || !have_identity) {
            for (const char* name :
                 {"registry", "function", "function settings", "bucket", "concurrency"})
                add(skipped(name));
            return m_checks;
        }
        add(check_registry());
        auto info = m_c.lambda().get_function(m_c.settings().function_name);
        add(check_function(info));
        add(info && info->package_type == "Image" ? check_settings(*info)
                                                  : skipped("function settings"));
        add(check_bucket());
        add(check_concurrency());
        return m_checks;
    }

  private:
    bool add(DoctorCheck check) {
        auto secrets = m_c.secrets();
        check.detail = aws::redact(check.detail, secrets);
        check.fix = aws::redact(check.fix, secrets);
        m_checks.push_back(std::move(check));
        return m_checks.back().ok;
    }

    DoctorCheck check_config() {
        const auto& s = m_c.settings();
        if (!m_c.problems().empty())
            return {"config", false, util::join(m_c.problems(), "; "),
                    "set the keys named above in cloudProvider"};
        return {"config", true,
                "function " + s.function_name + ", bucket " + s.bucket + ", registry " +
                    s.ecr_registry + ", region " + m_c.region() + ", platform " + s.platform,
                ""};
    }

    DoctorCheck check_credentials() {
        auto id = aws::sts_get_caller_identity(m_c.sts());
        if (!id) return {"credentials", false, id.error().message, k_credentials_fix};
        return {"credentials", true, id->arn + " (account " + id->account + ")", ""};
    }

    DoctorCheck check_registry() {
        const auto& s = m_c.settings();
        auto client = m_c.registry_client();
        if (!client) {
            return {"registry", false, client.error().message,
                    "allow ecr:GetAuthorizationToken for these credentials"};
        }
        auto head =
            (*client)->head_manifest(s.ecr.repository, s.ecr.tag.empty() ? "latest" : s.ecr.tag);
        if (!head) {
            return {"registry", false, head.error().message,
                    "check that the ECR repository " + s.ecr_registry +
                        " exists in the credentials' account and that they may push to it"};
        }
        return {"registry", true,
                "the ECR token is accepted by " + s.ecr.host + "/" + s.ecr.repository, ""};
    }

    DoctorCheck check_function(const util::Result<aws::FunctionInfo>& info) {
        const std::string& name = m_c.settings().function_name;
        if (!info) {
            return {"function", false, info.error().message,
                    "create the Lambda function \"" + name + "\" with package type Image in " +
                        m_c.region() + ", or set cloudProvider.functionName"};
        }
        if (info->package_type != "Image") {
            return {"function", false, name + " is a " + info->package_type + " function",
                    "hypertest deploys container images: recreate it with package type Image"};
        }
        if (info->state == "Failed" || info->last_update_status == "Failed") {
            std::string reason =
                info->state == "Failed" ? info->state_reason : info->last_update_status_reason;
            return {"function", false, name + " is in a failed state: " + reason,
                    "run `hypertest deploy` again, or fix the function in the Lambda console"};
        }
        std::string digest = info->image_digest();
        return {"function", true, name + " runs " + (digest.empty() ? "no image yet" : digest), ""};
    }

    DoctorCheck check_settings(const aws::FunctionInfo& info) {
        std::vector<std::string> issues, fixes;
        if (info.memory_mb < k_min_memory_mb) {
            issues.push_back("memory " + std::to_string(info.memory_mb) + " MB");
            fixes.push_back("give it at least " + std::to_string(k_min_memory_mb) +
                            " MB of memory (browsers need it)");
        }
        if (info.timeout_s < k_min_timeout_s) {
            issues.push_back("timeout " + std::to_string(info.timeout_s) + " s");
            fixes.push_back("raise its timeout to at least " + std::to_string(k_min_timeout_s) +
                            " s (900 s is the maximum)");
        }
        std::string wanted = m_c.settings().lambda_architecture();
        if (std::find(info.architectures.begin(), info.architectures.end(), wanted) ==
            info.architectures.end()) {
            issues.push_back("architecture " + util::join(info.architectures, ",") +
                             " (cloudProvider.platform is " + m_c.settings().platform + ")");
            fixes.push_back(
                "set cloudProvider.platform to the function's architecture, or recreate the "
                "function as " +
                wanted);
        }
        std::string found = std::to_string(info.memory_mb) + " MB, " +
                            std::to_string(info.timeout_s) + " s, " +
                            util::join(info.architectures, ",");
        if (issues.empty()) return {"function settings", true, found, ""};
        return {"function settings", false, "unsuitable: " + util::join(issues, "; "),
                util::join(fixes, "; ")};
    }

    DoctorCheck check_bucket() {
        std::string where = "s3://" + m_c.settings().bucket + "/";
        if (auto s = m_storage.check_writable(); !s) {
            return {"bucket", false, s.error().message,
                    "create the bucket " + m_c.settings().bucket + " in " + m_c.region() +
                        " or allow s3:PutObject/GetObject/DeleteObject on it"};
        }
        return {"bucket", true, "writable: " + where, ""};
    }

    DoctorCheck check_concurrency() {
        auto limit = aws::lambda_concurrency_limit(m_c.quotas(), m_c.lambda());
        if (!limit) {
            return {"concurrency", false, limit.error().message,
                    "allow servicequotas:GetServiceQuota or lambda:GetAccountSettings for these "
                    "credentials"};
        }
        std::string detail = "limit " + std::to_string(limit->value) + " (" + limit->source +
                             "), concurrency " + std::to_string(m_concurrency);
        if (limit->value < m_concurrency) {
            return {"concurrency", false, detail,
                    "lower \"concurrency\" to " + std::to_string(limit->value) +
                        " or request a higher Lambda concurrent executions quota (L-B99A9384) in "
                        "Service Quotas"};
        }
        return {"concurrency", true, detail, ""};
    }

    AwsClients& m_c;
    Storage& m_storage;
    int m_concurrency;
    std::vector<DoctorCheck> m_checks;
};

}  // namespace

std::vector<DoctorCheck> run_aws_doctor(AwsClients& clients, Storage& storage, int concurrency) {
    return Doctor(clients, storage, concurrency).run();
}

}  // namespace hypertest::providers
