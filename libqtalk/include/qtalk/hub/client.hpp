// The hub client apps link to (PROTOCOL §5): dial qtalkd, register services served on the same
// session, call other services, list and watch them. Registrations are kept and replayed
// after a reconnect (exponential backoff; opt-out). Coroutine API; see BlockingClient below.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "qtalk/event_loop.hpp"
#include "qtalk/rpc/peer.hpp"

namespace qtalk::hub {

// unix://$XDG_RUNTIME_DIR/qtalk/qtalkd.sock for a user (non-root with XDG_RUNTIME_DIR), else
// unix:///run/qtalk/qtalkd.sock (PROTOCOL §5.8). $QTALK_HUB overrides both.
std::string default_url();

struct Options {
    std::string url = default_url();
    rpc::Codec codec = rpc::Codec::cbor;
    bool reconnect = true;
    std::chrono::milliseconds backoff_min{100}, backoff_max{5000};
    mux::Options mux;
};

struct Registration {
    std::string name;  // normalised
    bool owner = false;
};

class Client : public std::enable_shared_from_this<Client> {
public:
    static std::shared_ptr<Client> create(boost::asio::any_io_executor ex, Options opts = {});

    // Dials the hub (once); with reconnect on, later losses are repaired in the background.
    rpc::Task<Result<void>> connect();
    bool connected() const;
    // Serves `handler` for calls routed to `name` (the name itself and everything below it).
    rpc::Task<rpc::CallResult<Registration>> register_service(std::string name, rpc::Handler handler,
                                                              bool shared = false);
    // Same with a RespondMux mounted under the name (it sees the selector with the prefix removed).
    rpc::Task<rpc::CallResult<Registration>> register_service(std::string name, std::shared_ptr<rpc::RespondMux> mux,
                                                              bool shared = false);
    rpc::Task<rpc::CallResult<bool>> unregister_service(std::string name);

    rpc::Task<rpc::CallResult<rpc::Response>> call(std::string selector, nlohmann::json args);
    rpc::Task<rpc::CallResult<rpc::Response>> call(std::string selector) { return call(std::move(selector), nullptr); }
    template <class R, class A>
    rpc::Task<rpc::CallResult<R>> call_as(std::string selector, A args) {
        auto r = co_await call(std::move(selector), nlohmann::json(std::move(args)));
        if (!r) co_return r.error();
        try {
            co_return r->value.template get<R>();
        } catch (const nlohmann::json::exception&) {
            co_return rpc::CallError{make_error_code(rpc::Errc::decode_failed), {}};
        }
    }
    rpc::Task<rpc::CallResult<nlohmann::json>> services();
    // Continued response: `value` is the snapshot, `pipe.receive()` yields up/down events.
    rpc::Task<rpc::CallResult<rpc::Response>> watch();

    // Called (on the client's executor) after every successful (re)connect and re-registration.
    void on_connected(std::function<void()> fn) { on_connected_ = std::move(fn); }
    void close();

    explicit Client(boost::asio::any_io_executor ex, Options opts);  // use create()

private:
    struct Service {
        rpc::Handler handler;
        std::shared_ptr<rpc::RespondMux> mux;
        bool shared;
    };
    rpc::Task<Result<void>> dial_once();
    rpc::Task<void> reconnect_loop();
    rpc::Task<rpc::CallResult<Registration>> send_register(const std::string& name, bool shared);
    void mount(const std::string& name, const Service& s);
    rpc::Task<rpc::CallResult<Registration>> add(std::string name, Service s);

    boost::asio::any_io_executor ex_;
    Options opts_;
    std::shared_ptr<rpc::RespondMux> mux_;
    std::map<std::string, Service> services_;
    std::unique_ptr<rpc::Peer> peer_;
    std::function<void()> on_connected_;
    bool closed_ = false, reconnecting_ = false;
};

// Blocking facade: the same client on a private event-loop thread. Handlers still run as
// coroutines on that thread. Errors throw rpc::RemoteError or std::system_error.
class BlockingClient {
public:
    explicit BlockingClient(Options opts = {});
    ~BlockingClient();
    Registration register_service(const std::string& name, rpc::Handler handler, bool shared = false);
    nlohmann::json call(const std::string& selector, const nlohmann::json& args = nullptr);
    nlohmann::json services();
    std::shared_ptr<Client> client() { return client_; }
    // Runs a coroutine using client() on the facade's loop thread and waits for its result.
    template <class F>
    auto run(F&& make) {
        return loop_.run(std::forward<F>(make));
    }

private:
    EventLoopThread loop_;
    std::shared_ptr<Client> client_;
};

}  // namespace qtalk::hub
