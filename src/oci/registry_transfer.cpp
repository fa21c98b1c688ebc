#include "oci/registry_transfer.hpp"

#include <algorithm>
#include <cstdio>

#include "oci/layout_internal.hpp"
#include "util/strings.hpp"

namespace hypertest::oci {
namespace {

util::Status push_blob(RegistryClient& client, const ImageLayout& layout, const Descriptor& d,
                       const std::string& repository, const PushOptions& options,
                       TransferReport& report) {
    if (!layout.has_blob(d.digest))
        return util::make_error("blob " + d.digest + " is missing from " + layout.dir().string());
    std::error_code ec;
    auto size = static_cast<std::int64_t>(fs::file_size(layout.blob_path(d.digest), ec));
    if (ec || size != d.size) {
        return util::make_error("blob " + d.digest + " in " + layout.dir().string() + " has " +
                                std::to_string(size) + " bytes but the manifest says " +
                                std::to_string(d.size));
    }
    BlobReport blob{d.digest, size, BlobAction::skipped};
    auto present = client.has_blob(repository, d.digest);
    if (!present) return present.error();
    if (!*present) {
        auto action = client.push_blob(repository, d.digest, layout.blob_path(d.digest), size,
                                       options.mount_from);
        if (!action) return action.error();
        blob.action = *action;
    }
    report.blobs.push_back(blob);
    return util::ok_status();
}

// Pushes one image manifest (its blobs first) under reference.
util::Status push_manifest(RegistryClient& client, const ImageLayout& layout,
                           const std::string& digest, const std::string& repository,
                           const std::string& reference, const PushOptions& options,
                           TransferReport& report, bool allow_index) {
    auto bytes = layout.read_blob(digest);
    if (!bytes) return bytes.error();
    auto parsed = parse_manifest(*bytes, "");
    if (!parsed)
        return util::make_error(digest + " in " + layout.dir().string() + ": " +
                                parsed.error().message);
    if (parsed->is_index) {
        if (!allow_index)
            return util::make_error("index " + digest + " lists another index: not supported");
        for (const auto& child : parsed->manifests) {
            if (auto s = push_manifest(client, layout, child.digest, repository, child.digest,
                                       options, report, false);
                !s) {
                return s;
            }
        }
    } else {
        if (auto s = push_blob(client, layout, parsed->config, repository, options, report); !s)
            return s;
        for (const auto& layer : parsed->layers) {
            if (auto s = push_blob(client, layout, layer, repository, options, report); !s)
                return s;
        }
    }
    auto existing = client.head_manifest(repository, reference);
    if (!existing) return existing.error();
    if (*existing && **existing == digest) {
        ++report.manifests_skipped;
    } else {
        auto put = client.put_manifest(repository, reference, parsed->media_type, *bytes);
        if (!put) return put.error();
        ++report.manifests_uploaded;
    }
    if (allow_index) report.media_type = parsed->media_type;
    return util::ok_status();
}

util::Result<BlobAction> fetch_blob(RegistryClient& client, const std::string& repository,
                                    const Descriptor& d, ImageLayout& layout) {
    if (layout.has_blob(d.digest)) return BlobAction::present;
    auto tmp = detail::scratch_path(layout, "pull");
    if (!tmp) return tmp.error();
    std::error_code ec;
    if (auto s = client.get_blob(repository, d.digest, *tmp, std::max<std::int64_t>(d.size, 1)); !s) {
        fs::remove(*tmp, ec);
        return s.error();
    }
    auto size = static_cast<std::int64_t>(fs::file_size(*tmp, ec));
    if (ec || size != d.size) {
        fs::remove(*tmp, ec);
        return util::make_error("blob " + d.digest + " from " + client.host() + "/" + repository +
                                " has " + std::to_string(size) + " bytes but the manifest says " +
                                std::to_string(d.size));
    }
    auto committed = detail::commit_blob(layout, *tmp, d.digest);
    if (!committed) return committed.error();
    return BlobAction::downloaded;
}

// Checks the pulled config names the wanted platform.
util::Status check_config(const ImageLayout& layout, const Descriptor& config,
                          const PullOptions& options, TransferReport& report) {
    auto text = layout.read_blob(config.digest);
    if (!text) return text.error();
    auto j = util::parse_json(*text, "image config " + config.digest);
    if (!j) return j.error();
    if (!j->is_object())
        return util::make_error("image config " + config.digest + " is not a JSON object");
    Platform got;
    got.os = util::json_get<std::string>(*j, "os", "");
    got.architecture = util::json_get<std::string>(*j, "architecture", "");
    got.variant = util::json_get<std::string>(*j, "variant", "");
    report.platform = got.text();
    if (options.check_platform &&
        (got.os != options.platform.os || got.architecture != options.platform.architecture)) {
        return util::make_error("wrong platform: " + report.repository + ":" + report.reference +
                                " is a " + got.text() + " image, wanted " +
                                options.platform.text());
    }
    return util::ok_status();
}

}  // namespace

int TransferReport::count(BlobAction action) const {
    int n = 0;
    for (const auto& b : blobs) n += b.action == action ? 1 : 0;
    return n;
}

std::int64_t TransferReport::bytes(BlobAction action) const {
    std::int64_t n = 0;
    for (const auto& b : blobs) n += b.action == action ? b.size : 0;
    return n;
}

std::string TransferReport::summary() const {
    std::vector<std::string> parts;
    for (auto action : {BlobAction::uploaded, BlobAction::mounted, BlobAction::skipped,
                        BlobAction::downloaded, BlobAction::present}) {
        int n = count(action);
        if (n == 0) continue;
        parts.push_back(std::to_string(n) +
                        (parts.empty() ? (n == 1 ? " blob " : " blobs ") : " ") +
                        to_string(action) + " (" + format_bytes(bytes(action)) + ")");
    }
    if (manifests_uploaded > 0)
        parts.push_back(std::to_string(manifests_uploaded) + " manifest" +
                        (manifests_uploaded == 1 ? "" : "s") + " uploaded");
    if (manifests_skipped > 0 && manifests_uploaded == 0) parts.push_back("manifest unchanged");
    return util::join(parts, ", ");
}

util::Json TransferReport::to_json() const {
    util::Json blob_list = util::Json::array();
    for (const auto& b : blobs)
        blob_list.push_back(
            {{"digest", b.digest}, {"size", b.size}, {"action", to_string(b.action)}});
    util::Json counts = util::Json::object();
    util::Json sizes = util::Json::object();
    for (auto action : {BlobAction::uploaded, BlobAction::mounted, BlobAction::skipped,
                        BlobAction::downloaded, BlobAction::present}) {
        counts[to_string(action)] = count(action);
        sizes[to_string(action)] = bytes(action);
    }
    return {{"repository", repository},
            {"reference", reference},
            {"manifestDigest", manifest_digest},
            {"mediaType", media_type},
            {"indexDigest", index_digest},
            {"platform", platform},
            {"blobs", blob_list},
            {"counts", counts},
            {"bytes", sizes},
            {"manifestsUploaded", manifests_uploaded},
            {"manifestsSkipped", manifests_skipped}};
}

std::string format_bytes(std::int64_t bytes) {
    if (bytes < 1000) return std::to_string(bytes) + " B";
    const char* units[] = {"kB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes);
    int unit = -1;
    while (value >= 1000 && unit < 3) {
        value /= 1000;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", value, units[unit]);
    return buf;
}

util::Result<TransferReport> push_image(RegistryClient& client, const ImageLayout& layout,
                                        const std::string& manifest_digest,
                                        const std::string& repository, const std::string& tag,
                                        const PushOptions& options) {
    TransferReport report;
    report.repository = repository;
    report.reference = tag.empty() ? manifest_digest : tag;
    report.manifest_digest = manifest_digest;
    if (auto s = push_manifest(client, layout, manifest_digest, repository, report.reference,
                               options, report, true);
        !s) {
        return util::make_error(
            "cannot push to " + client.host() + "/" + repository + ": " + s.error().message,
            s.error().retryable);
    }
    return report;
}

util::Result<TransferReport> pull_image(RegistryClient& client, const std::string& repository,
                                        const std::string& reference, ImageLayout& layout,
                                        const PullOptions& options) {
    TransferReport report;
    report.repository = repository;
    report.reference = reference;
    auto fetched = client.get_manifest(repository, reference);
    if (!fetched) return fetched.error();
    if (fetched->parsed.is_index) {
        if (auto stored = layout.write_blob(fetched->bytes); !stored) return stored.error();
        report.index_digest = fetched->digest;
        auto chosen = select_platform(fetched->parsed, options.platform);
        if (!chosen)
            return util::make_error(repository + ":" + reference + ": " + chosen.error().message);
        auto child = client.get_manifest(repository, chosen->digest);
        if (!child) return child.error();
        if (child->parsed.is_index)
            return util::make_error("index " + fetched->digest +
                                    " lists another index: not supported");
        fetched = std::move(child);
    }
    const ParsedManifest& m = fetched->parsed;
    report.manifest_digest = fetched->digest;
    report.media_type = m.media_type;
    // The config first: a wrong platform fails before any layer is downloaded.
    std::vector<Descriptor> blobs = {m.config};
    blobs.insert(blobs.end(), m.layers.begin(), m.layers.end());
    for (const auto& d : blobs) {
        auto action = fetch_blob(client, repository, d, layout);
        if (!action) return action.error();
        report.blobs.push_back({d.digest, d.size, *action});
        if (&d == &blobs.front()) {
            if (auto s = check_config(layout, m.config, options, report); !s) return s.error();
        }
    }
    if (auto stored = layout.write_blob(fetched->bytes); !stored) return stored.error();
    if (!options.tag.empty()) {
        if (auto s = layout.tag(fetched->digest, static_cast<std::int64_t>(fetched->bytes.size()),
                                m.media_type, options.tag);
            !s) {
            return s.error();
        }
    }
    return report;
}

}  // namespace hypertest::oci
