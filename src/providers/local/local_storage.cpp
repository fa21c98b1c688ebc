#include "providers/local/local_storage.hpp"

#include "util/fs.hpp"
#include "util/nofollow.hpp"

namespace hypertest::providers {
namespace {

// Blob reports with traces and videos can be large; nothing read whole is near this.
constexpr std::int64_t k_max_object_bytes = std::int64_t{2} << 30;

// The storage folder is writable inside every sandbox (the runner uploads there), so the host
// never follows a link in it: a test could plant one to make the host write or read elsewhere.
class LocalStorage : public Storage {
public:
    explicit LocalStorage(fs::path root) : m_root(std::move(root)) {}

    util::Status put(const std::string& key, std::string_view bytes) override {
        return util::write_below(m_root, key, bytes);
    }

    util::Status put_file(const std::string& key, const fs::path& file) override {
        auto s = util::copy_below(m_root, key, file);
        if (!s) return util::make_error("cannot store " + file.string() + ": " + s.error().message);
        return s;
    }

    util::Result<std::optional<std::string>> get(const std::string& key) override {
        return util::read_below(m_root, key, k_max_object_bytes);
    }

    std::string url(const std::string& key) const override {
        return (m_root / fs::path(key).relative_path()).lexically_normal().string();
    }

    plugins::StorageLocation location() const override {
        plugins::StorageLocation l;
        l.kind = "local";
        l.root = m_root.string();
        return l;
    }

    util::Status check_writable() override {
        auto s = util::check_writable_dir(m_root);
        if (s) return s;
        return util::make_error(s.error().message +
                                "; fix the directory's permissions or point cloudProvider.storageDir "
                                "at a writable directory");
    }

private:
    fs::path m_root;
};

}  // namespace

std::unique_ptr<Storage> make_local_storage(const fs::path& root) {
    return std::make_unique<LocalStorage>(root.lexically_normal());
}

}  // namespace hypertest::providers
