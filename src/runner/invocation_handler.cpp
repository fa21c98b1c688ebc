#include "runner/invocation_handler.hpp"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <system_error>
#include <utility>

#include "runner/artifact_upload.hpp"
#include "runner/project_view.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::runner {
namespace {

// Keeps the last max_bytes of text (on a UTF-8 boundary), marking the cut.
std::string tail_utf8(const std::string& text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return text;
    std::size_t start = text.size() - max_bytes;
    while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
    return "(truncated) …" + text.substr(start);
}

std::int64_t min_positive(std::int64_t a, std::int64_t b) {
    if (a <= 0) return b;
    if (b <= 0) return a;
    return std::min(a, b);
}

// A fresh private directory; removed (with everything in it) when the guard ends.
class WorkDir {
public:
    static util::Result<WorkDir> create(const fs::path& parent) {
        std::error_code ec;
        fs::create_directories(parent, ec);
        std::string tmpl = (parent / "ht-work-XXXXXX").string();
        if (!::mkdtemp(tmpl.data()))
            return util::make_error("cannot create a work directory under " + parent.string());
        return WorkDir(tmpl);
    }
    WorkDir(WorkDir&& o) noexcept : m_path(std::exchange(o.m_path, {})) {}
    WorkDir(const WorkDir&) = delete;
    ~WorkDir() {
        std::error_code ec;
        if (!m_path.empty()) fs::remove_all(m_path, ec);
    }
    const fs::path& path() const { return m_path; }

private:
    explicit WorkDir(fs::path p) : m_path(std::move(p)) {}
    fs::path m_path;
};

// Removes path and what is below it, staying on one file system like `rm --one-file-system`:
// inside a sandbox the host's storage may be bind-mounted below /tmp and must survive.
void remove_on_device(const fs::path& path, dev_t device) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        ::unlink(path.c_str());
        return;
    }
    if (st.st_dev != device) return;  // a mount point
    std::error_code ec;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
        remove_on_device(it->path(), device);
    ::rmdir(path.c_str());
}

void clean_dir_contents(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        remove_on_device(it->path(), st.st_dev);
}

void upload(const plugins::InvocationEvent& event, plugins::BatchOutcome& batch,
            plugins::InvocationResult& result) {
    std::vector<std::string> problems;
    auto sink = make_artifact_sink(event.storage);
    if (!sink) {
        problems.push_back(sink.error().message);
    } else {
        UploadInput in{event, batch.outcomes, batch.blob_report, batch.test_artifacts_dir};
        auto report = upload_artifacts(**sink, in);
        result.blob_report_key = report.blob_report_key;
        problems = std::move(report.problems);
    }
    for (const auto& p : problems) {
        util::log_warn("artifact upload: " + p);
        result.log_tail += "\n[hypertest-runner] artifact upload: " + p;
    }
}

}  // namespace

InvocationHandler::InvocationHandler(HandlerConfig config) : m_config(std::move(config)) {}

util::Result<plugins::Plugin*> InvocationHandler::plugin(const std::string& name) {
    auto it = m_plugins.find(name);
    if (it != m_plugins.end()) return it->second.get();
    try {
        auto p = m_config.make_plugin(name);
        if (!p) return util::make_error("no plugin named \"" + name + "\"");
        return m_plugins.emplace(name, std::move(p)).first->second.get();
    } catch (const util::Fatal& e) {
        return util::make_error(e.what());
    }
}

util::Result<Json> InvocationHandler::operator()(const Json& event_json, const Context& context) {
    std::int64_t start = util::now_ms();
    bool cold = std::exchange(m_first, false);
    auto event = plugins::invocation_event_from_json(event_json);
    if (!event) return util::make_error("malformed invocation event: " + event.error().message);
    auto plugin = this->plugin(event->plugin);
    if (!plugin) return plugin.error();

    plugins::InvocationResult result;
    result.invocation_id = event->invocation_id;
    result.runner_version = HYPERTEST_VERSION;
    result.cold_start = cold;
    result.init_ms = cold ? m_config.init_ms : 0;
    {
        auto work = WorkDir::create(m_config.tmp_root);
        if (!work) return work.error();
        plugins::BatchRequest req;
        req.task_root = m_config.task_root;
        if (m_config.writable_view) {
            auto view = make_project_view(m_config.task_layers.empty()
                                              ? std::vector<fs::path>{m_config.task_root}
                                              : m_config.task_layers,
                                          work->path() / "project");
            if (!view) return view.error();
            req.task_root = work->path() / "project";
            util::log_debug("project view: " + std::to_string(view->files_copied) + " files (" +
                            std::to_string(view->bytes_copied) + " bytes) copied, " +
                            std::to_string(view->entries_linked) + " linked");
        }
        req.tests = event->tests;
        req.work_dir = work->path();
        req.deadline_ms = min_positive(event->deadline_ms, context.deadline_ms);
        req.options = event->plugin_options;
        req.env = event->env;
        req.max_failures = event->max_failures;
        plugins::BatchOutcome batch = (*plugin)->run_batch(req);
        result.error = batch.error;
        result.suite_error = batch.suite_error;
        result.log_tail = batch.log_tail;
        upload(*event, batch, result);
        result.outcomes = std::move(batch.outcomes);
    }
    if (m_config.clean_tmp_root) clean_dir_contents(m_config.tmp_root);
    result.duration_ms = util::now_ms() - start;
    fit_result(result, k_max_answer_bytes);
    return plugins::to_json(result);
}

void fit_result(plugins::InvocationResult& r, std::size_t max_bytes) {
    // Generous per-field limits first; then, while still too large, shrink test errors.
    r.error = util::truncate_utf8(r.error, 16 * 1024);
    r.log_tail = tail_utf8(r.log_tail, 16 * 1024);
    for (std::size_t limit : {std::size_t{16 * 1024}, std::size_t{2048}, std::size_t{256}}) {
        for (auto& o : r.outcomes) {
            o.error_message = util::truncate_utf8(o.error_message, limit);
            o.error_stack = util::truncate_utf8(o.error_stack, limit);
        }
        std::string text = plugins::to_json(r).dump(-1, ' ', false, Json::error_handler_t::replace);
        if (text.size() <= max_bytes) return;
    }
    for (auto& o : r.outcomes) {
        o.error_stack.clear();
        if (o.artifact_keys.size() > 20) o.artifact_keys.resize(20);
    }
    r.log_tail = tail_utf8(r.log_tail, 1024);
}

}  // namespace hypertest::runner
