#include "providers/local/local_storage.hpp"

#include <unistd.h>

#include <atomic>

#include "util/fs.hpp"

namespace hypertest::providers {
namespace {

class LocalStorage : public Storage {
public:
    explicit LocalStorage(fs::path root) : m_root(std::move(root)) {}

    util::Status put(const std::string& key, std::string_view bytes) override {
        auto path = path_of(key);
        if (!path) return path.error();
        return util::write_file_atomic(*path, bytes);
    }

    util::Status put_file(const std::string& key, const fs::path& file) override {
        auto path = path_of(key);
        if (!path) return path.error();
        if (auto s = util::ensure_dir(path->parent_path()); !s) return s;
        static std::atomic<unsigned> serial{0};
        fs::path tmp = *path;
        tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++serial);
        std::error_code ec;
        fs::copy_file(file, tmp, fs::copy_options::overwrite_existing, ec);
        if (!ec) fs::rename(tmp, *path, ec);
        if (ec) {
            std::error_code ignore;
            fs::remove(tmp, ignore);
            return util::make_error("cannot store " + file.string() + " as " + path->string() +
                                    ": " + ec.message());
        }
        return util::ok_status();
    }

    util::Result<std::optional<std::string>> get(const std::string& key) override {
        auto path = path_of(key);
        if (!path) return path.error();
        std::error_code ec;
        if (!fs::is_regular_file(*path, ec)) return std::optional<std::string>();
        auto text = util::read_file(*path);
        if (!text) return text.error();
        return std::optional<std::string>(std::move(*text));
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
    // Keys are relative, '/'-separated and never leave the root.
    util::Result<fs::path> path_of(const std::string& key) const {
        if (key.empty() || key.front() == '/')
            return util::make_error("invalid storage key \"" + key + "\"");
        for (const auto& part : fs::path(key)) {
            if (part == "..") return util::make_error("invalid storage key \"" + key + "\" (..)");
        }
        return m_root / key;
    }

    fs::path m_root;
};

}  // namespace

std::unique_ptr<Storage> make_local_storage(const fs::path& root) {
    return std::make_unique<LocalStorage>(root.lexically_normal());
}

}  // namespace hypertest::providers
