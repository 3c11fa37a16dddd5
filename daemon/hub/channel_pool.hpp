// Spare channels to provider sessions (PROTOCOL §5.4): opened ahead of time, so a routed call
// skips the OPEN/CONFIRM round trip. The provider sees an accepted channel whose call header
// arrives later. Per session the configured `target` spares exist, pooled or being opened, and
// more while calls arrive faster than spares are replaced: every call that finds none while
// replacements are being opened adds one (up to limits::provider_spare_channels_max), and the
// surplus halves after each `growth_hold` without such a call. An open that fails is not
// retried until the next routed call asks for a refill.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "hub/registry.hpp"
#include "qtalk/mux/session.hpp"

namespace qtalkd {

// For log lines of a failed provider open: "timeout", or the error's message.
std::string open_failure_reason(std::error_code ec);

class ChannelPool {
public:
    ChannelPool(boost::asio::any_io_executor ex, std::chrono::milliseconds growth_hold);
    ~ChannelPool();  // closes every spare
    ChannelPool(const ChannelPool&) = delete;
    ChannelPool& operator=(const ChannelPool&) = delete;

    // Keeps spares for `id` (a session that provides a service) from now on and opens them.
    void keep(SessionId id, std::weak_ptr<qtalk::mux::Session> session, std::size_t target,
              std::chrono::milliseconds open_timeout);
    // Opens spares in the background until `target` are pooled or being opened; only for a
    // kept session.
    void refill(SessionId id, std::size_t target, std::chrono::milliseconds open_timeout);
    // A spare that is still usable (open, nothing received on it), or nullopt (which grows the
    // session's target). Spares found unusable are closed and dropped.
    std::optional<qtalk::mux::Channel> take(SessionId id);
    // How many spares `id` is kept at now, `configured` being the configured count.
    std::size_t target(SessionId id, std::size_t configured) const;
    // Closes `id`'s spares and stops keeping them; opens still under way are closed on arrival.
    void drop(SessionId id);

    std::size_t spares(SessionId id) const;   // pooled
    std::size_t opening(SessionId id) const;  // opens under way
    std::size_t spares() const;               // pooled, all sessions
    std::uint64_t failures() const;           // spare opens that failed, ever

    struct State;

private:
    std::shared_ptr<State> state_;  // the background opens and watches hold it weakly
};

}  // namespace qtalkd
