// Parsing and printing of transport URLs (PROTOCOL §3 URL conventions).
#include "qtalk/transport/url.hpp"

#include <charconv>

namespace qtalk::transport {

const char* scheme_name(Scheme s) noexcept {
    switch (s) {
    case Scheme::tcp: return "tcp";
    case Scheme::unix_socket: return "unix";
    case Scheme::stdio: return "stdio";
    case Scheme::ws: return "ws";
    case Scheme::wss: return "wss";
    }
    return "?";
}

namespace {
// "host:port" or "[v6]:port"
bool parse_host_port(std::string_view hp, Url& u) {
    std::string_view host, port;
    if (hp.starts_with('[')) {
        auto close = hp.find(']');
        if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':') return false;
        host = hp.substr(1, close - 1);
        port = hp.substr(close + 2);
    } else {
        auto colon = hp.rfind(':');
        if (colon == std::string_view::npos) return false;
        host = hp.substr(0, colon);
        port = hp.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return false;  // bare IPv6 needs brackets
    }
    if (host.empty() || port.empty()) return false;
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || ptr != port.data() + port.size() || p > 65535) return false;
    u.host = std::string(host);
    u.port = static_cast<std::uint16_t>(p);
    return true;
}
}  // namespace

Result<Url> parse_url(std::string_view text) {
    Url u;
    if (text == "stdio:" || text == "stdio://") {
        u.scheme = Scheme::stdio;
        return u;
    }
    auto sep = text.find("://");
    if (sep == std::string_view::npos) return Errc::bad_url;
    auto scheme = text.substr(0, sep);
    auto rest = text.substr(sep + 3);
    if (scheme == "tcp") {
        u.scheme = Scheme::tcp;
        if (!parse_host_port(rest, u)) return Errc::bad_url;
        return u;
    }
    if (scheme == "unix") {
        u.scheme = Scheme::unix_socket;
        if (rest.empty() || rest.front() != '/') return Errc::bad_url;  // absolute paths only
        u.path = std::string(rest);
        return u;
    }
    if (scheme == "ws" || scheme == "wss") {
        u.scheme = scheme == "ws" ? Scheme::ws : Scheme::wss;
        auto slash = rest.find('/');
        auto hp = rest.substr(0, slash);
        u.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
        if (!parse_host_port(hp, u)) return Errc::bad_url;
        return u;
    }
    return Errc::unsupported_scheme;
}

std::string Url::to_string() const {
    auto hp = [&] {
        auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
        return h + ":" + std::to_string(port);
    };
    switch (scheme) {
    case Scheme::tcp: return "tcp://" + hp();
    case Scheme::unix_socket: return "unix://" + path;
    case Scheme::stdio: return "stdio:";
    case Scheme::ws: return "ws://" + hp() + path;
    case Scheme::wss: return "wss://" + hp() + path;
    }
    return {};
}

}  // namespace qtalk::transport
