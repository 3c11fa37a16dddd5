// hub::Client: one rpc Peer on the hub session serving a RespondMux of registered services;
// qtalk.* calls for registration, listing and watching (PROTOCOL §5.3); reconnect with backoff.
#include "qtalk/hub/client.hpp"

#include <cstdlib>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "qtalk/log.hpp"
#include "qtalk/rpc/selector.hpp"

namespace qtalk::hub {
using nlohmann::json;
using rpc::CallError;
using rpc::CallResult;
using rpc::Task;

std::string default_url() {
    if (const char* u = std::getenv("QTALK_HUB"); u && *u) return u;
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg && ::geteuid() != 0)
        return std::string("unix://") + xdg + "/qtalk/qtalkd.sock";
    return "unix:///run/qtalk/qtalkd.sock";
}

Client::Client(boost::asio::any_io_executor ex, Options opts)
    : ex_(std::move(ex)), opts_(std::move(opts)), mux_(std::make_shared<rpc::RespondMux>()) {}

std::shared_ptr<Client> Client::create(boost::asio::any_io_executor ex, Options opts) {
    return std::make_shared<Client>(std::move(ex), std::move(opts));
}

bool Client::connected() const { return peer_ && !peer_->session()->is_closed(); }

Task<Result<void>> Client::dial_once() {
    auto s = co_await transport::dial(ex_, opts_.url);
    if (!s) co_return s.error();
    peer_ = std::make_unique<rpc::Peer>(mux::Session::start(std::move(*s), opts_.mux), opts_.codec, mux_);
    std::weak_ptr<Client> weak = weak_from_this();
    peer_->session()->on_closed([weak](std::error_code why) {
        auto self = weak.lock();
        if (!self || self->closed_ || !self->opts_.reconnect || self->reconnecting_) return;
        log::get("hub")->warn("hub connection lost url={} reason=\"{}\"", self->opts_.url, why.message());
        boost::asio::co_spawn(self->ex_, self->reconnect_loop(), boost::asio::detached);
    });
    co_return Result<void>{};
}

Task<Result<void>> Client::connect() {
    auto self = shared_from_this();
    auto r = co_await dial_once();
    if (r && on_connected_) on_connected_();
    co_return r;
}

// Backoff doubles from backoff_min to backoff_max; every registration is replayed.
Task<void> Client::reconnect_loop() {
    auto self = shared_from_this();
    reconnecting_ = true;
    auto delay = opts_.backoff_min;
    boost::asio::steady_timer t(ex_);
    while (!closed_) {
        t.expires_after(delay);
        co_await t.async_wait(boost::asio::use_awaitable);
        if (closed_) break;
        if (auto r = co_await dial_once(); r) {
            bool ok = true;
            for (auto& [name, svc] : services_) {
                auto reg = co_await send_register(name, svc.shared);
                if (!reg) {
                    log::get("hub")->warn("re-register failed service={} reason=\"{}\"", name, reg.error().to_string());
                    ok = reg.error().code == rpc::Errc::remote_error;  // a refusal is final, a lost link is not
                    if (!ok) break;
                }
            }
            if (ok) {
                log::get("hub")->info("hub reconnected url={} services={}", opts_.url, services_.size());
                reconnecting_ = false;
                if (on_connected_) on_connected_();
                if (peer_->session()->is_closed()) {  // lost again meanwhile: keep going
                    reconnecting_ = true;
                    continue;
                }
                co_return;
            }
        }
        delay = std::min(delay * 2, opts_.backoff_max);
    }
    reconnecting_ = false;
}

Task<CallResult<Registration>> Client::send_register(const std::string& name, bool shared) {
    json args{{"name", name}, {"shared", shared}};
    auto r = co_await peer_->call("qtalk.register", args);
    if (!r) co_return r.error();
    Registration reg;
    try {
        reg.name = r->value.at("name").get<std::string>();
        reg.owner = r->value.at("owner").get<bool>();
    } catch (const json::exception&) {
        co_return CallError{make_error_code(rpc::Errc::invalid_header), {}};
    }
    co_return reg;
}

void Client::mount(const std::string& name, const Service& s) {
    if (s.mux) {
        mux_->handle(name, s.mux);
    } else {
        mux_->handle(name, s.handler);        // the name itself
        mux_->handle(name + "/", s.handler);  // and every selector below it
    }
}

Task<CallResult<Registration>> Client::add(std::string name, Service s) {
    auto self = shared_from_this();
    if (!peer_) co_return CallError{make_error_code(mux::Errc::session_closed), {}};
    auto normalized = rpc::normalize_selector(name);
    mount(normalized, s);  // before the hub can route the first call here
    auto reg = co_await send_register(normalized, s.shared);
    if (!reg) {
        mux_->remove(normalized);
        mux_->remove(normalized + "/");
        co_return reg;
    }
    services_[normalized] = std::move(s);
    co_return reg;
}

Task<CallResult<Registration>> Client::register_service(std::string name, rpc::Handler handler, bool shared) {
    return add(std::move(name), Service{std::move(handler), nullptr, shared});
}

Task<CallResult<Registration>> Client::register_service(std::string name, std::shared_ptr<rpc::RespondMux> mux,
                                                        bool shared) {
    return add(std::move(name), Service{nullptr, std::move(mux), shared});
}

Task<CallResult<bool>> Client::unregister_service(std::string name) {
    auto self = shared_from_this();
    if (!peer_) co_return CallError{make_error_code(mux::Errc::session_closed), {}};
    auto normalized = rpc::normalize_selector(name);
    json args{{"name", normalized}};
    auto r = co_await peer_->call("qtalk.unregister", args);
    if (!r) co_return r.error();
    services_.erase(normalized);
    mux_->remove(normalized);
    mux_->remove(normalized + "/");
    co_return true;
}

Task<CallResult<rpc::Response>> Client::call(std::string selector, json args) {
    auto self = shared_from_this();
    if (!peer_) co_return CallError{make_error_code(mux::Errc::session_closed), {}};
    co_return co_await peer_->call(std::move(selector), std::move(args));
}

Task<CallResult<json>> Client::services() {
    auto r = co_await call("qtalk.services", nullptr);
    if (!r) co_return r.error();
    co_return std::move(r->value);
}

Task<CallResult<rpc::Response>> Client::watch() { return call("qtalk.watch", nullptr); }

void Client::close() {
    closed_ = true;
    if (peer_) peer_->close();
}

BlockingClient::BlockingClient(Options opts) : client_(Client::create(loop_.executor(), std::move(opts))) {
    auto r = loop_.run([c = client_]() { return c->connect(); });
    if (!r) throw std::system_error(r.error(), "qtalk hub");
}

BlockingClient::~BlockingClient() {
    loop_.run([c = client_]() -> Task<void> {
        c->close();
        co_return;
    });
}

Registration BlockingClient::register_service(const std::string& name, rpc::Handler handler, bool shared) {
    auto r = loop_.run([c = client_, name, h = std::move(handler), shared]() {
        return c->register_service(name, h, shared);
    });
    return r.get();
}

json BlockingClient::call(const std::string& selector, const json& args) {
    auto r = loop_.run([c = client_, selector, args]() { return c->call(selector, args); });
    return r.get().value;
}

json BlockingClient::services() {
    auto r = loop_.run([c = client_]() { return c->services(); });
    return r.get();
}

}  // namespace qtalk::hub
