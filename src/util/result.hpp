// Expected failures travel as values; configuration errors throw Fatal, caught once in main.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace hypertest::util {

struct Error {
    std::string message;
    bool retryable = false;
    bool throttled = false;    // the service asked us to slow down (e.g. HTTP 429)
    int retry_after_ms = -1;   // the service's Retry-After, when it sent one
};

// A Fatal error ends the command: main prints the message and exits with exit_code.
struct Fatal : std::runtime_error {
    explicit Fatal(const std::string& message, int code = 2)
        : std::runtime_error(message), exit_code(code) {}
    int exit_code;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::move(value)) {}
    Result(Error error) : m_v(std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(m_v); }
    // Returns the value or throws Fatal with the error's message, prefixed by context.
    T take_or_fatal(const std::string& context = {}) && {
        if (!ok()) throw Fatal(context.empty() ? error().message : context + ": " + error().message);
        return std::get<0>(std::move(m_v));
    }

private:
    std::variant<T, Error> m_v;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }
inline Error make_error(std::string message, bool retryable = false) {
    return Error{std::move(message), retryable};
}

}  // namespace hypertest::util
