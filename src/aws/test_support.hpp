// Test-only: service configurations pointed at a local server, with recorded sleeps.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "aws/service_client.hpp"
#include "aws/system.hpp"

namespace hypertest::aws::testing_support {

inline constexpr const char* k_test_key_id = "AKIDTESTWIRE";
inline constexpr const char* k_test_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// Env credentials and AWS_ENDPOINT_URL=url; a fixed clock; sleeps are recorded, not slept.
struct TestAws {
    explicit TestAws(const std::string& url, std::string session_token = "")
        : system(system_with_env({{"AWS_ACCESS_KEY_ID", k_test_key_id},
                                  {"AWS_SECRET_ACCESS_KEY", k_test_secret},
                                  {"AWS_SESSION_TOKEN", std::move(session_token)},
                                  {"AWS_ENDPOINT_URL", url},
                                  {"AWS_EC2_METADATA_DISABLED", "true"}})) {
        system.now_ms = [this] { return now_ms; };
    }
    ServiceConfig config(const std::string& service_id) {
        auto c = service_config(system, service_id, "us-east-1",
                                std::shared_ptr<CredentialsProvider>(make_env_provider(system)));
        c->sleep = [this](std::chrono::milliseconds d) {
            sleeps.push_back(d);
            now_ms += d.count();
        };
        return *c;
    }

    System system;
    std::int64_t now_ms = 1700000000000;  // 2023-11-14T22:13:20Z
    std::vector<std::chrono::milliseconds> sleeps;
};

}  // namespace hypertest::aws::testing_support
