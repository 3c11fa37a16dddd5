// Conformance checks, in the order of PROTOCOL §4.10.
#include "interop/checks.hpp"

#include <ostream>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace qtalk::interop {
using nlohmann::json;
using rpc::Task;

namespace {

struct Reporter {
    std::ostream& out;
    CheckTotals totals;
    void ok(const std::string& line) {
        ++totals.passed;
        out << "ok   " << line << std::endl;
    }
    void fail(const std::string& line) {
        ++totals.failed;
        out << "FAIL " << line << std::endl;
    }
};

// Go's fmt %v rendering of the upstream checker, for familiar output.
std::string show(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object()) {
        std::string s = "map[";
        bool first = true;
        for (auto& [k, x] : v.items()) {
            if (!first) s += " ";
            first = false;
            s += k + ":" + show(x);
        }
        return s + "]";
    }
    if (v.is_array()) {
        std::string s = "[";
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + show(v[i]);
        return s + "]";
    }
    return v.dump();
}

// Type-preserving equality: same canonical encoding (an integer never equals a float).
bool same(rpc::Codec c, const json& a, const json& b) { return rpc::encode(c, a) == rpc::encode(c, b); }

Task<void> check_error(rpc::Peer& peer, Reporter& rep, std::string selector, bool exact) {
    auto r = co_await peer.call(selector, "test");
    if (r) {
        rep.fail(selector + ": expected an error, got " + r->value.dump());
    } else if (r.error().code != rpc::Errc::remote_error) {
        rep.fail(selector + ": " + r.error().to_string());
    } else if (exact && r.error().remote != "test") {
        rep.fail(selector + ": wrong error text: " + r.error().remote);
    } else if (!exact && r.error().remote.find("not found") == std::string::npos) {
        rep.fail(selector + ": expected a not-found error, got: " + r.error().remote);
    } else {
        rep.ok("Error: " + r.error().remote);
    }
}

Task<void> check_unary(rpc::Peer& peer, Reporter& rep, const json& v, std::string selector) {
    auto r = co_await peer.call(selector, v);
    if (!r) {
        rep.fail("Unary " + v.dump() + ": " + r.error().to_string());
    } else if (!same(peer.client().codec(), r->value, v)) {
        rep.fail("Unary: sent " + v.dump() + ", got " + r->value.dump() + " (type-preserving comparison)");
    } else {
        rep.ok("Unary: " + show(v) + " " + show(r->value));
    }
}

Task<void> check_stream(rpc::Peer& peer, Reporter& rep, const std::vector<json>& values, std::string selector) {
    auto r = co_await peer.call(selector, nullptr);
    if (!r || !r->continued) {
        rep.fail(std::string("Stream: ") + (r ? "response not continued" : r.error().to_string()));
        co_return;
    }
    auto& pipe = r->pipe;
    for (auto& v : values) {
        if (auto s = co_await pipe.send(v); !s) {
            rep.fail("Stream: send: " + s.error().message());
            pipe.abort();
            co_return;
        }
    }
    (void)co_await pipe.close_write();
    std::vector<json> got;
    for (;;) {
        auto v = co_await pipe.receive();
        if (!v) {
            rep.fail("Stream: receive: " + v.error().message());
            pipe.abort();
            co_return;
        }
        if (!*v) break;
        got.push_back(std::move(**v));
    }
    pipe.abort();
    bool ok = got.size() == values.size();
    for (std::size_t i = 0; ok && i < got.size(); ++i) ok = same(pipe.codec(), got[i], values[i]);
    if (!ok) {
        rep.fail("Stream: sent " + json(values).dump() + ", got " + json(got).dump());
        co_return;
    }
    for (auto& v : got) rep.ok("Stream: " + show(v));
}

Task<void> check_bytes(rpc::Peer& peer, Reporter& rep, std::size_t size, unsigned seed, std::string selector) {
    std::vector<std::byte> data(size);
    std::mt19937 rng(seed);
    for (auto& b : data) b = std::byte(rng());
    auto r = co_await peer.call(selector, nullptr);
    if (!r || !r->continued) {
        rep.fail(std::string("Bytes: ") + (r ? "response not continued" : r.error().to_string()));
        co_return;
    }
    auto pipe = r->pipe;
    bool write_ok = false, write_done = false;
    auto ex = co_await boost::asio::this_coro::executor;
    boost::asio::co_spawn(ex, [&, pipe]() mutable -> Task<void> {
        write_ok = bool(co_await pipe.write(data)) && bool(co_await pipe.close_write());
        write_done = true;
    }, boost::asio::detached);
    std::vector<std::byte> got;
    std::vector<std::byte> buf(64 * 1024);
    std::string err;
    for (;;) {
        auto n = co_await pipe.read_some(buf);
        if (!n) {
            err = n.error().message();
            break;
        }
        if (*n == 0) break;
        got.insert(got.end(), buf.begin(), buf.begin() + *n);
    }
    boost::asio::steady_timer t(ex);
    for (int i = 0; i < 500 && !write_done; ++i) {  // the writer finished long before the echo did
        t.expires_after(std::chrono::milliseconds(10));
        co_await t.async_wait(boost::asio::use_awaitable);
    }
    pipe.abort();
    if (!err.empty())
        rep.fail("Bytes " + std::to_string(size) + ": read: " + err);
    else if (!write_ok)
        rep.fail("Bytes " + std::to_string(size) + ": write failed");
    else if (got.size() != data.size())
        rep.fail("Bytes: sent " + std::to_string(size) + ", got " + std::to_string(got.size()));
    else if (got != data)
        rep.fail("Bytes " + std::to_string(size) + ": contents differ");
    else
        rep.ok("Bytes: " + std::to_string(got.size()));
}

}  // namespace

Task<CheckTotals> run_checks(rpc::Peer& peer, std::ostream& out, std::string prefix) {
    Reporter rep{out, {}};
    auto sel = [&](const char* method) { return prefix.empty() ? std::string(method) : prefix + "." + method; };
    co_await check_error(peer, rep, sel("Error"), true);
    co_await check_error(peer, rep, sel("BadSelector"), false);
    const std::vector<json> values = {100, true, "hello", json{{"foo", "bar"}}, json::array({1, 2, 3})};
    for (auto& v : values) co_await check_unary(peer, rep, v, sel("Unary"));
    co_await check_stream(peer, rep, values, sel("Stream"));
    unsigned seed = 1;
    for (std::size_t size : {std::size_t{1}, std::size_t{1024}, std::size_t{1048576}})
        co_await check_bytes(peer, rep, size, seed++, sel("Bytes"));
    co_return rep.totals;
}

}  // namespace qtalk::interop
