// qtalk.register / unregister / services / watch / ping and qtalk.admin.* (PROTOCOL §5.3, §5.6).
// Argument keys are lower-case and matched exactly; unknown keys are ignored.
#include "hub/methods.hpp"

#include "hub/errors.hpp"
#include "hub/watcher.hpp"
#include "qtalk/rpc/responder.hpp"

namespace qtalkd {
using nlohmann::json;
using qtalk::rpc::Task;

namespace {

json services_json(const Registry& reg) {
    json arr = json::array();
    for (auto& s : reg.services()) arr.push_back({{"name", s.name}, {"providers", s.providers}, {"shared", s.shared}});
    return arr;
}

// {"name": string, ...} -> the name, or nullopt (invalid arguments).
std::optional<std::string> name_arg(const json& args) {
    if (!args.is_object()) return std::nullopt;
    auto it = args.find("name");
    if (it == args.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

}  // namespace

Task<void> Methods::dispatch(qtalk::mux::Channel ch, Intake in) {
    auto frame = co_await qtalk::rpc::read_frame(ch);
    qtalk::rpc::Pipe pipe(ch, in.codec);
    qtalk::rpc::Responder r(pipe);
    auto& stats = hub.stats_;
    auto fail = [&](const std::string& msg) -> Task<void> {
        ++stats.errors;
        (void)co_await r.error(msg);
    };
    if (!frame) {
        co_await fail(invalid_arguments());
        co_return;
    }
    std::vector<std::byte> raw = *frame ? std::move(**frame) : qtalk::rpc::encode(in.codec, nullptr);
    const auto& sel = in.normalized;

    if (sel == "/qtalk/ping") {  // the value frame is byte-identical to the argument frame
        (void)co_await r.reply_encoded(raw);
        co_return;
    }
    auto decoded = qtalk::rpc::decode(in.codec, raw);
    json args = decoded ? std::move(*decoded) : json();
    bool args_ok = bool(decoded);

    if (sel == "/qtalk/services") {
        (void)co_await r.reply(services_json(hub.registry()));
    } else if (sel == "/qtalk/watch") {
        auto out = co_await r.continue_with(services_json(hub.registry()));
        if (!out) co_return;
        auto w = std::make_shared<Watcher>(**out, hub.options().watcher_backlog);
        auto it = hub.sessions_.find(from);
        if (it == hub.sessions_.end()) {
            w->close();
            co_return;
        }
        it->second.watchers.push_back(w);
        w->start();
    } else if (sel == "/qtalk/register") {
        auto name = args_ok ? name_arg(args) : std::nullopt;
        auto shared_it = args.is_object() ? args.find("shared") : args.end();
        bool shared = false;
        if (name && shared_it != args.end()) {
            if (shared_it->is_boolean()) shared = shared_it->get<bool>();
            else name.reset();
        }
        if (!name) {
            co_await fail(invalid_arguments());
            co_return;
        }
        auto out = hub.registry_.register_service(from, *name, shared);
        if (out.error) {
            co_await fail(*out.error);
            co_return;
        }
        if (out.event) hub.publish({*out.event});
        services_changed = true;
        const json reply = json{{"name", out.name}, {"owner", out.owner}};
        (void)co_await r.reply(reply);
    } else if (sel == "/qtalk/unregister") {
        auto name = args_ok ? name_arg(args) : std::nullopt;
        if (!name) {
            co_await fail(invalid_arguments());
            co_return;
        }
        auto out = hub.registry_.unregister_service(from, *name);
        if (out.error) {
            co_await fail(*out.error);
            co_return;
        }
        if (out.event) hub.publish({*out.event});
        services_changed = true;
        const json reply = json{{"name", out.name}, {"removed", true}};
        (void)co_await r.reply(reply);
    } else if (sel == "/qtalk/admin" || sel.starts_with("/qtalk/admin/")) {
        auto it = hub.sessions_.find(from);
        if (it == hub.sessions_.end() || !it->second.privileged) {
            co_await fail(permission_denied());
        } else if (sel == "/qtalk/admin/sessions") {
            (void)co_await r.reply(hub.admin_sessions());
        } else if (sel == "/qtalk/admin/services") {
            (void)co_await r.reply(hub.admin_services());
        } else if (sel == "/qtalk/admin/stats") {
            (void)co_await r.reply(hub.admin_stats());
        } else if (sel == "/qtalk/admin/kick") {
            auto id = args.is_object() ? args.find("session") : args.end();
            if (!args_ok || id == args.end() || !id->is_number_unsigned()) {
                co_await fail(invalid_arguments());
            } else if (auto sid = id->get<SessionId>(); !hub.kick(sid)) {
                co_await fail(session_not_found(sid));
            } else {
                const json reply = json{{"session", sid}, {"kicked", true}};
                (void)co_await r.reply(reply);
            }
        } else {
            co_await fail(not_found(sel));
        }
    } else {
        co_await fail(not_found(sel));
    }
}

}  // namespace qtalkd
