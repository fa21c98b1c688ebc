#include "util/curl_transfer.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

namespace hypertest::util::curl_detail {
namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* sink = static_cast<BodySink*>(user);
    sink->received += static_cast<std::int64_t>(size * n);
    bool to_file = sink->to_file();
    // The caller's bound is for the answer it asked for; redirects and error documents on the
    // way have their own size, bounded like any body kept in memory.
    std::int64_t limit = sink->limit > 0 && sink->success() ? sink->limit : to_file ? 0 : k_max_memory_body;
    if (limit > 0 && sink->received > limit) {
        sink->limit_error = "the answer is larger than " + std::to_string(limit) + " bytes";
        return 0;  // aborts the transfer
    }
    if (!to_file) {
        sink->body->append(data, size * n);
        return size * n;
    }
    if (!sink->file) return 0;  // aborts the transfer; file_error says why
    if (std::fwrite(data, 1, size * n, sink->file) != size * n) {
        sink->file_error =
            "cannot write " + sink->file_path->string() + ": " + std::strerror(errno);
        return 0;
    }
    return size * n;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
    auto* src = static_cast<FileSource*>(user);
    std::size_t want = std::min<std::size_t>(size * n, static_cast<std::size_t>(src->remaining));
    if (want == 0) return 0;
    std::size_t got = std::fread(buffer, 1, want, src->file);
    if (got == 0) return CURL_READFUNC_ABORT;  // the file shrank under us
    src->remaining -= static_cast<curl_off_t>(got);
    return got;
}

// Opens the request's body_file region; fails with a message when it cannot be read.
Result<Ok> open_body_file(const HttpRequest& req, FileSource& src) {
    std::error_code ec;
    auto total = std::filesystem::file_size(req.body_file, ec);
    if (ec) return make_error("cannot read " + req.body_file.string() + ": " + ec.message());
    if (req.body_file_offset > total)
        return make_error("offset beyond the end of " + req.body_file.string());
    std::uint64_t left = total - req.body_file_offset;
    if (req.body_file_length >= 0)
        left = std::min<std::uint64_t>(left, static_cast<std::uint64_t>(req.body_file_length));
    src.file = std::fopen(req.body_file.c_str(), "rb");
    if (!src.file || fseeko(src.file, static_cast<off_t>(req.body_file_offset), SEEK_SET) != 0) {
        return make_error("cannot read " + req.body_file.string() + ": " + std::strerror(errno));
    }
    src.remaining = static_cast<curl_off_t>(left);
    return Ok{};
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(user);
    std::string line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string value = line.substr(colon + 1);
        auto b = value.find_first_not_of(" \t");
        auto e = value.find_last_not_of(" \t\r\n");
        (*headers)[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    } else if (line.rfind("HTTP/", 0) == 0) {
        headers->clear();  // a new response (after 100-continue or a redirect)
    }
    return size * n;
}

}  // namespace

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool BodySink::success() const {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return status >= 200 && status < 300;
}

bool BodySink::to_file() {
    if (!decided) {
        decided = true;
        if (file_path && !file_path->empty() && success()) {
            file = std::fopen(file_path->c_str(), "wb");
            if (!file)
                file_error = "cannot write " + file_path->string() + ": " + std::strerror(errno);
        }
    }
    return file != nullptr || !file_error.empty();
}

BodySink::~BodySink() {
    if (file) std::fclose(file);
}

FileSource::~FileSource() {
    if (file) std::fclose(file);
}

Transfer::Transfer(CURL* easy, const HttpRequest& request) : m_easy(easy), m_request(request) {}

Transfer::~Transfer() { curl_slist_free_all(m_headers); }

int Transfer::on_prerequest(void* user, char*, char*, int, int) {
    auto* self = static_cast<Transfer*>(user);
    if (++self->m_sends > 1 && self->m_request.method == "POST") {
        self->m_resend_refused = true;
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

Result<Ok> Transfer::set_up() {
    const HttpRequest& req = m_request;
    CURL* c = m_easy;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    // URLs come from registries and token challenges too: nothing but HTTP(S), ever.
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (req.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (!req.body_file.empty()) {
        if (auto opened = open_body_file(req, m_source); !opened) return opened.error();
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &m_source);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, m_source.remaining);
    } else if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
    for (const auto& [k, v] : req.headers)
        m_headers = curl_slist_append(m_headers, (k + ": " + v).c_str());
    m_headers = curl_slist_append(m_headers, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, m_headers);
    m_sink.curl = c;
    m_sink.body = &m_response.body;
    m_sink.file_path = &req.response_file;
    m_sink.limit = req.max_response_bytes;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &m_sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &m_response.headers);
    curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prerequest);
    curl_easy_setopt(c, CURLOPT_PREREQDATA, this);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    if (req.timeout.count() > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    return Ok{};
}

Result<HttpResponse> Transfer::finish(CURLcode rc) {
    const HttpRequest& req = m_request;
    if (!m_sink.limit_error.empty())
        return make_error(req.method + " " + req.url + ": " + m_sink.limit_error + "; refused");
    if (!m_sink.file_error.empty()) return make_error(m_sink.file_error);
    if (m_resend_refused) {
        return make_error(req.method + " " + req.url +
                              ": the connection closed before an answer came; not sent again "
                              "since the server may have acted on it",
                          true);
    }
    if (rc != CURLE_OK)
        return make_error(req.method + " " + req.url + ": " + curl_easy_strerror(rc), true);
    curl_easy_getinfo(m_easy, CURLINFO_RESPONSE_CODE, &m_response.status);
    // A 2xx without a body still leaves the (empty) file the caller asked for.
    if (!req.response_file.empty() && m_response.status >= 200 && m_response.status < 300 &&
        !m_sink.to_file()) {
        return make_error("cannot write " + req.response_file.string());
    }
    if (!m_sink.file_error.empty()) return make_error(m_sink.file_error);
    return std::move(m_response);
}

}  // namespace hypertest::util::curl_detail
