// One qtalk.watch subscription (PROTOCOL §5.3): events queue here and are written as the
// watcher's window allows; more than `backlog` undelivered events closes it. Frames the
// watcher sends are ignored; its EOF or CLOSE ends the subscription.
#pragma once
#include <deque>
#include <memory>

#include <nlohmann/json.hpp>

#include "mux/event.hpp"
#include "qtalk/rpc/pipe.hpp"

namespace qtalkd {

class Watcher : public std::enable_shared_from_this<Watcher> {
public:
    Watcher(qtalk::rpc::Pipe pipe, std::size_t backlog);
    void start();                      // spawns the writer and the reader
    void push(nlohmann::json event);   // in order; overflow closes the watcher
    void close();
    bool closed() const { return closed_; }

private:
    qtalk::rpc::Task<void> write_loop();
    qtalk::rpc::Task<void> read_loop();
    qtalk::rpc::Pipe pipe_;
    std::size_t backlog_;
    std::deque<nlohmann::json> pending_;
    qtalk::mux::detail::Event wake_;
    bool closed_ = false;
};

}  // namespace qtalkd
