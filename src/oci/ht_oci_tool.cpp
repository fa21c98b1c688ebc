// ht_oci_tool: builds, pushes and pulls images from the command line, for the registry
// integration tests and benchmarks. Errors go to stderr with exit code 2.
//   build <layout> <tag> <dir> [--arch A]           one layer with everything in dir
//   index <layout> <tag> <member-tag>... [--attestation]
//   push <layout> <tag|digest> <host/repo[:tag]> [--insecure] [--chunk-threshold N] ...
//   pull <host/repo:tag|@digest> <layout> [--tag T] [--platform P] [--any-platform]
//   unpack <layout> <tag|digest> <dir>                extract the image's layers
// Registry credentials come from HYPERTEST_REGISTRY_USERNAME / HYPERTEST_REGISTRY_PASSWORD.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "oci/image.hpp"
#include "oci/registry_ref.hpp"
#include "oci/registry_transfer.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace oci = hypertest::oci;
namespace util = hypertest::util;
namespace fs = std::filesystem;

namespace {

template <class T>
T need(util::Result<T> r, const std::string& context = {}) {
    return std::move(r).take_or_fatal(context);
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::unique_ptr<oci::RegistryClient> client_for(const oci::RegistryRef& ref, bool insecure,
                                                std::int64_t threshold, std::int64_t chunk) {
    oci::RegistryOptions options;
    options.insecure = insecure;
    options.credentials = {env("HYPERTEST_REGISTRY_USERNAME"), env("HYPERTEST_REGISTRY_PASSWORD")};
    options.credentials_hint = "set HYPERTEST_REGISTRY_USERNAME and HYPERTEST_REGISTRY_PASSWORD";
    if (threshold > 0) options.chunk_threshold = threshold;
    if (chunk > 0) options.chunk_size = chunk;
    return std::make_unique<oci::RegistryClient>(ref.host, options, util::make_curl_http_client());
}

void print(const oci::TransferReport& report, const oci::RegistryClient& client) {
    util::Json j = report.to_json();
    j["requests"] = client.request_counts();
    j["summary"] = report.summary();
    std::cout << j.dump() << "\n";
}

void build(const fs::path& layout_dir, const std::string& tag, const fs::path& dir,
           const std::string& arch) {
    auto layout = need(oci::ImageLayout::open(layout_dir));
    std::vector<std::string> paths;
    for (const auto& e : fs::directory_iterator(dir)) paths.push_back(e.path().filename().string());
    oci::ImageSpec spec;
    spec.architecture = arch;
    spec.layers = {need(oci::build_layer(dir, paths, layout), "cannot build the layer")};
    spec.entrypoint = {"/usr/local/bin/hypertest-runner"};
    auto image = need(oci::write_image(layout, spec, tag));
    std::cout << image.manifest_digest << "\n";
}

util::Json platform_entry(const oci::ImageLayout& layout, const std::string& digest) {
    auto manifest = need(util::parse_json(need(layout.read_blob(digest)), digest));
    std::string config_digest = manifest["config"]["digest"].get<std::string>();
    auto config = need(util::parse_json(need(layout.read_blob(config_digest)), config_digest));
    return {{"mediaType", manifest.value("mediaType", std::string(oci::k_oci_manifest))},
            {"digest", digest},
            {"size", fs::file_size(layout.blob_path(digest))},
            {"platform",
             {{"os", config.value("os", "linux")},
              {"architecture", config.value("architecture", "amd64")}}}};
}

// An attestation-like manifest: what buildkit adds to an index, which pulls must skip.
util::Json attestation_entry(oci::ImageLayout& layout, const std::string& subject) {
    std::string statement = R"({"_type":"https://in-toto.io/Statement/v0.1","subject":[]})";
    std::string layer = need(layout.write_blob(statement));
    std::string config = need(layout.write_blob("{}"));
    std::string manifest = util::Json{{"schemaVersion", 2},
                                      {"mediaType", std::string(oci::k_oci_manifest)},
                                      {"config",
                                       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                        {"digest", config},
                                        {"size", 2}}},
                                      {"layers",
                                       {{{"mediaType", "application/vnd.in-toto+json"},
                                         {"digest", layer},
                                         {"size", statement.size()}}}}}
                               .dump();
    std::string digest = need(layout.write_blob(manifest));
    return {{"mediaType", std::string(oci::k_oci_manifest)},
            {"digest", digest},
            {"size", manifest.size()},
            {"platform", {{"os", "unknown"}, {"architecture", "unknown"}}},
            {"annotations",
             {{"vnd.docker.reference.type", "attestation-manifest"},
              {"vnd.docker.reference.digest", subject}}}};
}

void make_index(const fs::path& layout_dir, const std::string& tag,
                const std::vector<std::string>& members, bool attestation) {
    auto layout = need(oci::ImageLayout::open(layout_dir));
    util::Json entries = util::Json::array();
    for (const auto& member : members)
        entries.push_back(platform_entry(layout, need(layout.resolve(member))));
    if (attestation) entries.push_back(attestation_entry(layout, entries[0]["digest"]));
    std::string index = util::Json{
        {"schemaVersion", 2},
        {"mediaType", std::string(oci::k_oci_index)},
        {"manifests",
         entries}}.dump();
    std::string digest = need(layout.write_blob(index));
    if (auto s = layout.tag(digest, static_cast<std::int64_t>(index.size()),
                            std::string(oci::k_oci_index), tag);
        !s) {
        throw util::Fatal(s.error().message);
    }
    std::cout << digest << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"OCI image helper for hypertest's tests"};
    app.require_subcommand(1);
    std::string layout_dir, tag, dir, arch = "amd64", source, target, platform = "amd64",
                                      mount_from;
    std::vector<std::string> members;
    bool attestation = false, insecure = false, any_platform = false;
    std::int64_t threshold = 0, chunk = 0;

    auto* b = app.add_subcommand("build", "one-layer image from a directory");
    b->add_option("layout", layout_dir)->required();
    b->add_option("tag", tag)->required();
    b->add_option("dir", dir)->required();
    b->add_option("--arch", arch);

    auto* x = app.add_subcommand("index", "index of tagged images");
    x->add_option("layout", layout_dir)->required();
    x->add_option("tag", tag)->required();
    x->add_option("members", members)->required();
    x->add_flag("--attestation", attestation);

    auto* p = app.add_subcommand("push", "push a tagged image or index to a registry");
    p->add_option("layout", layout_dir)->required();
    p->add_option("source", source, "tag or digest in the layout")->required();
    p->add_option("target", target, "host/repository[:tag]")->required();
    p->add_flag("--insecure", insecure);
    p->add_option("--chunk-threshold", threshold);
    p->add_option("--chunk-size", chunk);
    p->add_option("--mount-from", mount_from);

    auto* l = app.add_subcommand("pull", "pull an image into a layout");
    l->add_option("source", source, "host/repository:tag or @digest")->required();
    l->add_option("layout", layout_dir)->required();
    l->add_option("--tag", tag);
    l->add_option("--platform", platform);
    l->add_flag("--any-platform", any_platform);
    l->add_flag("--insecure", insecure);

    auto* u = app.add_subcommand("unpack", "extract an image's layers into a directory");
    u->add_option("layout", layout_dir)->required();
    u->add_option("source", source, "tag or digest in the layout")->required();
    u->add_option("dir", dir)->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    try {
        if (b->parsed()) build(layout_dir, tag, dir, arch);
        if (x->parsed()) make_index(layout_dir, tag, members, attestation);
        if (p->parsed()) {
            auto ref = need(oci::parse_registry_ref(target));
            auto layout = need(oci::ImageLayout::open(layout_dir));
            std::string digest =
                source.rfind("sha256:", 0) == 0 ? source : need(layout.resolve(source));
            auto client = client_for(ref, insecure, threshold, chunk);
            oci::PushOptions options{mount_from};
            print(need(oci::push_image(*client, layout, digest, ref.repository,
                                       ref.reference().empty() ? "latest" : ref.reference(),
                                       options)),
                  *client);
        }
        if (u->parsed()) {
            auto layout = need(oci::ImageLayout::open(layout_dir));
            std::string digest =
                source.rfind("sha256:", 0) == 0 ? source : need(layout.resolve(source));
            if (auto s = oci::unpack_image(layout, digest, dir); !s)
                throw util::Fatal(s.error().message);
        }
        if (l->parsed()) {
            auto ref = need(oci::parse_registry_ref(source));
            auto layout = need(oci::ImageLayout::open(layout_dir));
            auto client = client_for(ref, insecure, 0, 0);
            oci::PullOptions options;
            options.platform = need(oci::parse_platform(platform));
            options.check_platform = !any_platform;
            options.tag = tag;
            print(need(oci::pull_image(*client, ref.repository,
                                       ref.reference().empty() ? "latest" : ref.reference(), layout,
                                       options)),
                  *client);
        }
    } catch (const util::Fatal& e) {
        std::fprintf(stderr, "ht_oci_tool: %s\n", e.what());
        return 2;
    }
    return 0;
}
