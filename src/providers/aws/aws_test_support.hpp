// Test-only: the aws provider against a local stand-in for Lambda, ECR, STS, Service Quotas and
// S3 (one cpp-httplib server, FakeAws) and an in-memory registry.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "aws/service_client.hpp"
#include "aws/test_server.hpp"
#include "oci/fake_registry.hpp"
#include "oci/image.hpp"
#include "providers/aws/aws_provider.hpp"
#include "util/base64.hpp"
#include "util/fs.hpp"

namespace hypertest::providers::testing_support {

using aws::testing_support::LocalServer;

inline const std::string k_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
inline const std::string k_registry_password = "ecr-password-0123456789";
inline const std::string k_log =
    "START RequestId: r1\nEND RequestId: r1\n"
    "REPORT RequestId: r1\tDuration: 1500.20 ms\tBilled Duration: 1501 ms\tMemory Size: 2048 MB\t"
    "Max Memory Used: 300 MB\tInit Duration: 250.50 ms\t\n";

// The AWS side: one function, one bucket, recorded calls.
struct FakeAws {
    std::mutex mutex;
    std::string package_type = "Image";
    std::string image_uri;     // last UpdateFunctionCode
    int polls_until_done = 0;  // GetFunction answers InProgress this many more times
    int memory = 2048, timeout = 900;
    std::map<std::string, std::string> objects;  // S3 key -> bytes
    std::string invoke_error;                    // X-Amz-Function-Error to answer with
    int throttle = 0;                            // 429s to answer before invoking
    std::vector<std::string> invoked;
    // Invoke answers wait (up to 10 s) until this many Invoke calls have arrived.
    int hold_until = 0;
    int arrived = 0;
    std::condition_variable arrivals;

    void release() {
        std::lock_guard lock(mutex);
        hold_until = 0;
        arrivals.notify_all();
    }

    void install(LocalServer& server) {
        server.post("/", [this](const httplib::Request& req, httplib::Response& res) {
            post_root(req, res);
        });
        server.get("/2015-03-31/functions/hypertest",
                   [this](const httplib::Request&, httplib::Response& res) {
                       std::lock_guard lock(mutex);
                       std::string status = polls_until_done > 0 ? "InProgress" : "Successful";
                       if (polls_until_done > 0) --polls_until_done;
                       util::Json code = {{"RepositoryType", "ECR"}};
                       if (!image_uri.empty())
                           code["ImageUri"] = code["ResolvedImageUri"] = image_uri;
                       res.set_content(util::Json{{"Configuration",
                                                   {{"FunctionName", "hypertest"},
                                                    {"PackageType", package_type},
                                                    {"MemorySize", memory},
                                                    {"Timeout", timeout},
                                                    {"Architectures", {"x86_64"}},
                                                    {"State", "Active"},
                                                    {"LastUpdateStatus", status}}},
                                                  {"Code", code}}
                                           .dump(),
                                       "application/json");
                   });
        server.put("/2015-03-31/functions/hypertest/code", [this](const httplib::Request& req,
                                                                  httplib::Response& res) {
            std::lock_guard lock(mutex);
            image_uri = util::parse_json(req.body, "b")->at("ImageUri").get<std::string>();
            polls_until_done = 2;
            res.set_content(R"({"FunctionName":"hypertest","LastUpdateStatus":"InProgress"})",
                            "application/json");
        });
        server.post("/2015-03-31/functions/hypertest/invocations", [this](
                                                                       const httplib::Request& req,
                                                                       httplib::Response& res) {
            std::unique_lock lock(mutex);
            ++arrived;
            arrivals.notify_all();
            arrivals.wait_for(lock, std::chrono::seconds(10),
                              [this] { return arrived >= hold_until; });
            if (throttle > 0) {
                --throttle;
                res.status = 429;
                res.set_header("x-amzn-ErrorType", "TooManyRequestsException");
                res.set_header("Retry-After", "2");
                res.set_content(
                    R"({"message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"})",
                    "application/json");
                return;
            }
            invoked.push_back(req.body);
            res.set_header("X-Amz-Log-Result", util::base64_encode(k_log));
            if (!invoke_error.empty()) {
                res.set_header("X-Amz-Function-Error", invoke_error);
                res.set_content(
                    R"({"errorType":"Runtime.ExitError","errorMessage":"RequestId: r1 Error: Runtime exited with error: signal: killed"})",
                    "application/json");
                return;
            }
            res.set_content(R"({"version":1,"invocationId":"inv-1","outcomes":[]})",
                            "application/json");
        });
        server.put("/bucket/(.*)", [this](const httplib::Request& req, httplib::Response&) {
            std::lock_guard lock(mutex);
            objects[req.path.substr(8)] = req.body;
        });
        server.get("/bucket/(.*)", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex);
            auto it = objects.find(req.path.substr(8));
            if (it == objects.end()) {
                res.status = 404;
                res.set_content(
                    "<Error><Code>NoSuchKey</Code><Message>The specified key does not "
                    "exist.</Message></Error>",
                    "application/xml");
                return;
            }
            res.set_content(it->second, "application/octet-stream");
        });
        server.del("/bucket/(.*)", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex);
            objects.erase(req.path.substr(8));
            res.status = 204;
        });
    }

    void post_root(const httplib::Request& req, httplib::Response& res) {
        std::string target = req.get_header_value("X-Amz-Target");
        if (target == "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken") {
            res.set_content(
                util::Json{
                    {"authorizationData",
                     {{{"authorizationToken", util::base64_encode("AWS:" + k_registry_password)},
                       {"expiresAt", 4102444800.0},
                       {"proxyEndpoint", "http://127.0.0.1:5000"}}}}}
                    .dump(),
                "application/x-amz-json-1.1");
        } else if (target == "ServiceQuotasV20190624.GetServiceQuota") {
            res.set_content(R"({"Quota":{"Value":5.0}})", "application/x-amz-json-1.1");
        } else if (req.body == "Action=GetCallerIdentity&Version=2011-06-15") {
            res.set_content(
                "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::"
                "123456789012:user/ci</Arn>"
                "<UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></"
                "GetCallerIdentityResponse>",
                "text/xml");
        } else {
            res.status = 400;
            res.set_content(R"({"__type":"UnknownOperationException"})", "application/json");
        }
    }
};

// Forwards to a registry the test keeps.
struct RegistryHandle : util::HttpClient {
    explicit RegistryHandle(oci::test::FakeRegistry& r) : registry(r) {}
    util::Result<util::HttpResponse> send(const util::HttpRequest& req) override {
        return registry.send(req);
    }
    oci::test::FakeRegistry& registry;
};

class AwsProviderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        fake.install(server);
        server.start();
        registry.auth = oci::test::FakeRegistry::Auth::basic;
        registry.password = k_registry_password;
        project = fs::temp_directory_path() /
                  ("ht-aws-provider-" + std::to_string(::getpid()) + "-" +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(project);
        fs::create_directories(project);
    }
    void TearDown() override { fs::remove_all(project); }

    std::unique_ptr<Provider> provider(util::Json config = {}, int concurrency = 2,
                                       bool with_credentials = true) {
        if (config.is_null())
            config = {{"name", "aws"},
                      {"region", "eu-west-1"},
                      {"bucketName", "bucket"},
                      {"ecrRegistry", "127.0.0.1:5000/hypertest"},
                      {"lambdaUpdateMaxWaitTime", 30}};
        ProviderContext ctx;
        ctx.project_dir = project;
        ctx.config = config;
        ctx.function_name = "hypertest";
        ctx.concurrency = concurrency;
        std::map<std::string, std::string> env = {{"AWS_ENDPOINT_URL", server.url()},
                                                  {"AWS_EC2_METADATA_DISABLED", "true"}};
        if (with_credentials) {
            env["AWS_ACCESS_KEY_ID"] = "AKIDPROVIDER";
            env["AWS_SECRET_ACCESS_KEY"] = k_secret;
        }
        aws::System system = aws::system_with_env(env);
        AwsTransport transport;
        transport.registry_http = [this] { return std::make_unique<RegistryHandle>(registry); };
        transport.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
        return make_aws_provider_with(ctx, system, transport);
    }

    std::string write_image(const Provider& p) {
        fs::create_directories(project / "tests");
        EXPECT_TRUE(
            util::write_file_atomic(project / "tests" / "a.spec.ts", "test('a', () => {});").ok());
        auto layout = oci::ImageLayout::open(p.image_layout_dir());
        EXPECT_TRUE(layout.ok());
        auto layer = oci::build_layer(project, {"tests"}, *layout);
        EXPECT_TRUE(layer.ok());
        oci::ImageSpec spec;
        spec.layers = {*layer};
        spec.entrypoint = {"/usr/local/bin/hypertest-runner"};
        return oci::write_image(*layout, spec, "hypertest").value().manifest_digest;
    }

    // The fake outlives the server: handler threads may still be finishing a held Invoke
    // (released at the end of a test) while the fixture is torn down.
    FakeAws fake;
    LocalServer server{64};
    oci::test::FakeRegistry registry;
    fs::path project;
    std::vector<std::chrono::milliseconds> sleeps;
};

}  // namespace hypertest::providers::testing_support
