#include "oci/registry_client.hpp"

#include <gtest/gtest.h>

#include "oci/fake_registry.hpp"
#include "oci/test_support.hpp"

namespace hypertest::oci {
namespace {

using test::FakeRegistry;

struct Harness {
    FakeRegistry* fake = nullptr;
    std::vector<std::chrono::milliseconds> sleeps;
    std::unique_ptr<RegistryClient> client;

    explicit Harness(FakeRegistry::Auth auth = FakeRegistry::Auth::none,
                     RegistryCredentials creds = {}, RegistryOptions options = {},
                     const std::string& host = "127.0.0.1:5000") {
        auto owned = std::make_unique<FakeRegistry>();
        fake = owned.get();
        fake->auth = auth;
        options.credentials = std::move(creds);
        options.credentials_hint = "set HYPERTEST_REGISTRY_USERNAME";
        options.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
        client = std::make_unique<RegistryClient>(host, options, std::move(owned));
    }
};

std::string oci_manifest_for(FakeRegistry& fake, const std::string& repo) {
    std::string config = fake.put_blob(repo, R"({"architecture":"amd64","os":"linux"})");
    std::string layer = fake.put_blob(repo, "layer bytes");
    return util::Json{{"schemaVersion", 2},
                      {"mediaType", std::string(k_oci_manifest)},
                      {"config",
                       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                        {"digest", config},
                        {"size", 37}}},
                      {"layers",
                       {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                         {"digest", layer},
                         {"size", 11}}}}}
        .dump();
}

TEST(RegistryClient, AnonymousManifestGetAcceptsAllFourTypesAndVerifiesTheDigest) {
    Harness h;
    std::string bytes = oci_manifest_for(*h.fake, "app");
    std::string digest = h.fake->put_manifest("app", "v1", std::string(k_oci_manifest), bytes);
    auto m = h.client->get_manifest("app", "v1");
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->digest, digest);
    EXPECT_EQ(m->bytes, bytes);
    EXPECT_EQ(m->parsed.media_type, k_oci_manifest);
    ASSERT_EQ(h.fake->log.size(), 1u);
    const auto& req = h.fake->log[0];
    EXPECT_EQ(req.url, "http://127.0.0.1:5000/v2/app/manifests/v1");
    bool accept = false;
    for (const auto& [k, v] : req.headers) accept |= k == "Accept" && v == manifest_accept_header();
    EXPECT_TRUE(accept);
}

TEST(RegistryClient, ManifestDigestMismatchIsAnError) {
    Harness h;
    std::string bytes = oci_manifest_for(*h.fake, "app");
    std::string digest = h.fake->put_manifest("app", "v1", std::string(k_oci_manifest), bytes);
    h.fake->tamper = [](util::HttpResponse& r, const util::HttpRequest& req) {
        if (req.url.find("/manifests/") != std::string::npos) r.body.insert(r.body.size() - 1, " ");
    };
    auto by_digest = h.client->get_manifest("app", digest);
    ASSERT_FALSE(by_digest);
    EXPECT_NE(by_digest.error().message.find("digest mismatch"), std::string::npos);
    auto by_tag = h.client->get_manifest("app", "v1");  // checked against Docker-Content-Digest
    ASSERT_FALSE(by_tag);
    EXPECT_NE(by_tag.error().message.find("digest mismatch"), std::string::npos);
}

TEST(RegistryClient, MalformedManifestAndMissingRepositoryHaveClearMessages) {
    Harness h;
    h.fake->put_manifest(
        "app", "bad", std::string(k_oci_manifest),
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}");
    auto bad = h.client->get_manifest("app", "bad");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("malformed manifest"), std::string::npos)
        << bad.error().message;
    auto missing = h.client->get_manifest("nope", "v1");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("repository does not exist"), std::string::npos)
        << missing.error().message;
    auto no_tag = h.client->get_manifest("app", "v9");
    ASSERT_FALSE(no_tag);
    EXPECT_NE(no_tag.error().message.find("404"), std::string::npos);
}

TEST(RegistryClient, BlobDownloadIsVerifiedAndABadOneIsRemoved) {
    test::ScratchDir dir;
    Harness h;
    std::string digest = h.fake->put_blob("app", "hello blob");
    ASSERT_TRUE(h.client->get_blob("app", digest, dir / "ok"));
    EXPECT_EQ(test::read_text(dir / "ok"), "hello blob");
    h.fake->tamper = [](util::HttpResponse& r, const util::HttpRequest&) { r.body = "evil"; };
    auto s = h.client->get_blob("app", digest, dir / "bad");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("digest mismatch"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "bad"));
}

TEST(RegistryClient, BasicAuthAnswersTheChallengeThenSendsCredentialsUpFront) {
    Harness h(FakeRegistry::Auth::basic, {"AWS", "secret"});
    std::string digest = h.fake->put_blob("app", "x");
    ASSERT_TRUE(*h.client->has_blob("app", digest));
    ASSERT_FALSE(*h.client->has_blob("app", "sha256:" + std::string(64, 'f')));
    ASSERT_EQ(h.fake->statuses, (std::vector<long>{401, 200, 404}));
    for (std::size_t i = 1; i < h.fake->log.size(); ++i) {
        bool basic = false;
        for (const auto& [k, v] : h.fake->log[i].headers)
            basic |= k == "Authorization" && v == basic_authorization("AWS", "secret");
        EXPECT_TRUE(basic) << i;
    }
}

TEST(RegistryClient, BasicAuthWithoutOrWithWrongCredentialsFailsClearly) {
    Harness none(FakeRegistry::Auth::basic);
    auto anonymous = none.client->has_blob("app", "sha256:" + std::string(64, 'f'));
    ASSERT_FALSE(anonymous);
    EXPECT_NE(anonymous.error().message.find("requires credentials"), std::string::npos);
    EXPECT_NE(anonymous.error().message.find("HYPERTEST_REGISTRY_USERNAME"), std::string::npos);

    Harness wrong(FakeRegistry::Auth::basic, {"AWS", "nope"});
    auto rejected = wrong.client->has_blob("app", "sha256:" + std::string(64, 'f'));
    ASSERT_FALSE(rejected);
    EXPECT_NE(rejected.error().message.find("rejected the credentials"), std::string::npos)
        << rejected.error().message;
}

TEST(RegistryClient, BearerFlowFetchesAScopedTokenOnceAndReusesIt) {
    Harness h(FakeRegistry::Auth::bearer, {"AWS", "secret"});
    std::string digest = h.fake->put_blob("team/app", "x");
    ASSERT_TRUE(*h.client->has_blob("team/app", digest));
    ASSERT_TRUE(*h.client->has_blob("team/app", digest));
    int token_requests = 0;
    for (const auto& r : h.fake->log) {
        if (!util::starts_with(r.url, "https://auth.test/token")) continue;
        ++token_requests;
        EXPECT_NE(r.url.find("service=fake-registry"), std::string::npos) << r.url;
        EXPECT_NE(r.url.find("scope=repository%3Ateam%2Fapp%3Apull"), std::string::npos) << r.url;
        bool basic = false;
        for (const auto& [k, v] : r.headers) basic |= v == basic_authorization("AWS", "secret");
        EXPECT_TRUE(basic);
    }
    EXPECT_EQ(token_requests, 1);
    EXPECT_EQ(h.fake->statuses, (std::vector<long>{401, 200, 200, 200}));
}

// Credentials go only where the token protocol needs them, and never in the clear to another
// machine.
TEST(RegistryClient, CredentialsAreWithheldFromAPlainHttpRealmOnAnotherHost) {
    Harness h(FakeRegistry::Auth::bearer, {"AWS", "secret"});
    h.fake->realm = "http://127.0.0.1:6000/token";
    h.fake->allow_anonymous_pull = true;
    std::string digest = h.fake->put_blob("app", "x");
    ASSERT_TRUE(*h.client->has_blob("app", digest));
    int token_requests = 0;
    for (const auto& r : h.fake->log) {
        if (!util::starts_with(r.url, h.fake->realm)) continue;
        ++token_requests;
        for (const auto& [k, v] : r.headers) EXPECT_NE(k, "Authorization") << v;
    }
    EXPECT_EQ(token_requests, 1);
}

TEST(RegistryClient, BasicCredentialsAreNotSentOverPlainHttpToAnotherMachine) {
    RegistryOptions options;
    options.insecure = true;
    Harness h(FakeRegistry::Auth::basic, {"AWS", "secret"}, options, "registry.example.test:5000");
    std::string digest = h.fake->put_blob("app", "x");
    auto got = h.client->has_blob("app", digest);
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().message.find("plain HTTP"), std::string::npos) << got.error().message;
    for (const auto& r : h.fake->log)
        for (const auto& [k, v] : r.headers) EXPECT_NE(k, "Authorization") << r.url;
}

TEST(RegistryClient, BearerAnonymousPullWorksButPushNeedsCredentials) {
    Harness h(FakeRegistry::Auth::bearer);
    h.fake->allow_anonymous_pull = true;
    std::string digest = h.fake->put_blob("app", "x");
    ASSERT_TRUE(*h.client->has_blob("app", digest));
    test::ScratchDir dir;
    test::write_text(dir / "blob", "y");
    auto pushed = h.client->push_blob("app", "sha256:" + util::sha256_hex("y"), dir / "blob", 1);
    ASSERT_FALSE(pushed);
    EXPECT_NE(pushed.error().message.find("needs credentials"), std::string::npos)
        << pushed.error().message;
}

TEST(RegistryClient, MonolithicUploadIsPostThenPutWithDigestAppendedToTheQuery) {
    test::ScratchDir dir;
    Harness h;
    test::write_text(dir / "blob", "payload");
    std::string digest = "sha256:" + util::sha256_hex("payload");
    auto action = h.client->push_blob("app", digest, dir / "blob", 7);
    ASSERT_TRUE(action) << action.error().message;
    EXPECT_EQ(*action, BlobAction::uploaded);
    EXPECT_EQ(h.fake->blobs["app"][digest], "payload");
    ASSERT_EQ(h.fake->log.size(), 2u);
    EXPECT_EQ(h.fake->log[0].method, "POST");
    EXPECT_EQ(h.fake->log[1].method, "PUT");
    EXPECT_EQ(
        h.fake->log[1].url,
        "http://127.0.0.1:5000/v2/app/blobs/uploads/u1?_state=su1&digest=" + url_encode(digest));
    EXPECT_EQ(h.fake->log[1].body_file, dir / "blob");  // streamed from the file
}

TEST(RegistryClient, LargeBlobsGoUpInPatchChunksFollowingEachLocation) {
    test::ScratchDir dir;
    RegistryOptions options;
    options.chunk_threshold = 10;
    options.chunk_size = 4;
    Harness h(FakeRegistry::Auth::none, {}, options);
    std::string content = "0123456789abcdefghij!";  // 21 bytes: 6 chunks
    test::write_text(dir / "blob", content);
    std::string digest = "sha256:" + util::sha256_hex(content);
    auto action = h.client->push_blob("app", digest, dir / "blob", 21);
    ASSERT_TRUE(action) << action.error().message;
    EXPECT_EQ(h.fake->blobs["app"][digest], content);
    EXPECT_EQ(h.fake->count("PATCH"), 6);
    EXPECT_EQ(h.fake->log.back().method, "PUT");
    EXPECT_TRUE(h.fake->log.back().body.empty());
    EXPECT_TRUE(h.fake->log.back().body_file.empty());
    // The second PATCH went to the (relative) Location the first one returned.
    EXPECT_EQ(h.fake->log[2].url, "http://127.0.0.1:5000/v2/app/blobs/uploads/u1?_state=p4");
}

TEST(RegistryClient, MountsFromAnotherRepositoryOrFallsBackToUpload) {
    test::ScratchDir dir;
    Harness h;
    std::string shared = h.fake->put_blob("base", "shared");
    test::write_text(dir / "shared", "shared");
    auto mounted = h.client->push_blob("app", shared, dir / "shared", 6, "base");
    ASSERT_TRUE(mounted);
    EXPECT_EQ(*mounted, BlobAction::mounted);
    EXPECT_EQ(h.fake->count("PUT"), 0);
    EXPECT_NE(h.fake->log[0].url.find("mount=" + url_encode(shared) + "&from=base"),
              std::string::npos);

    test::write_text(dir / "own", "own");
    auto uploaded =
        h.client->push_blob("app", "sha256:" + util::sha256_hex("own"), dir / "own", 3, "base");
    ASSERT_TRUE(uploaded) << uploaded.error().message;
    EXPECT_EQ(*uploaded, BlobAction::uploaded);
    EXPECT_EQ(h.fake->count("PUT"), 1);
}

TEST(RegistryClient, ManifestPutSendsTheExactMediaType) {
    Harness h;
    std::string bytes = oci_manifest_for(*h.fake, "app");
    auto digest = h.client->put_manifest("app", "v1", std::string(k_oci_manifest), bytes);
    ASSERT_TRUE(digest) << digest.error().message;
    EXPECT_EQ(*digest, "sha256:" + util::sha256_hex(bytes));
    EXPECT_EQ(h.fake->log[0].headers, (std::vector<std::pair<std::string, std::string>>{
                                          {"Content-Type", std::string(k_oci_manifest)}}));
    auto head = h.client->head_manifest("app", "v1");
    ASSERT_TRUE(head && *head);
    EXPECT_EQ(**head, *digest);
    EXPECT_FALSE(*h.client->head_manifest("app", "v2"));
}

TEST(RegistryClient, RetriesTransientFailuresWithBackoffAndRetryAfter) {
    Harness h;
    std::string digest = h.fake->put_blob("app", "x");
    h.fake->inject = {503, 429};
    h.fake->transport_failures = 1;
    auto got = h.client->has_blob("app", digest);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_TRUE(*got);
    ASSERT_EQ(h.sleeps.size(), 3u);
    EXPECT_EQ(h.sleeps[0].count(), 200);   // transport error
    EXPECT_EQ(h.sleeps[1].count(), 400);   // 503
    EXPECT_EQ(h.sleeps[2].count(), 1000);  // 429 with Retry-After: 1
}

TEST(RegistryClient, GivesUpAfterMaxAttempts) {
    Harness h;
    h.fake->inject = {503, 503, 503, 503, 503, 503};
    auto got = h.client->has_blob("app", "sha256:" + std::string(64, 'f'));
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().message.find("HTTP 503"), std::string::npos) << got.error().message;
    EXPECT_EQ(h.fake->log.size(), 5u);

    Harness down;
    down.fake->transport_failures = 100;
    auto unreachable = down.client->get_manifest("app", "v1");
    ASSERT_FALSE(unreachable);
    EXPECT_NE(unreachable.error().message.find("cannot reach registry 127.0.0.1:5000"),
              std::string::npos);
}

TEST(RegistryClient, RedirectsToAnotherHostDropTheCredentials) {
    test::ScratchDir dir;
    Harness h(FakeRegistry::Auth::basic, {"AWS", "secret"});
    std::string digest = h.fake->put_blob("app", "stored elsewhere");
    h.fake->tamper = [&](util::HttpResponse& r, const util::HttpRequest& req) {
        if (req.method == "GET" &&
            util::starts_with(req.url, "http://127.0.0.1:5000/v2/app/blobs/") && r.status == 200) {
            r.status = 307;
            r.headers["location"] = "http://storage.test/v2/app/blobs/" + digest;
            r.body.clear();
        }
        if (util::starts_with(req.url, "http://storage.test/")) {
            r.status = 200;
            r.body = "stored elsewhere";
        }
    };
    ASSERT_TRUE(h.client->get_blob("app", digest, dir / "blob"));
    EXPECT_EQ(test::read_text(dir / "blob"), "stored elsewhere");
    const auto& last = h.fake->log.back();
    EXPECT_TRUE(util::starts_with(last.url, "http://storage.test/"));
    for (const auto& [k, v] : last.headers) EXPECT_NE(k, "Authorization");
}

}  // namespace
}  // namespace hypertest::oci
