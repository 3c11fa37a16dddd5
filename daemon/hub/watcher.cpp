// qtalk.watch delivery: one writer draining the queue, one reader discarding input.
#include "hub/watcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "qtalk/log.hpp"

namespace qtalkd {

Watcher::Watcher(qtalk::rpc::Pipe pipe, std::size_t backlog)
    : pipe_(std::move(pipe)), backlog_(backlog), wake_(pipe_.channel().session().get_executor()) {}

void Watcher::start() {
    auto ex = pipe_.channel().session().get_executor();
    auto self = shared_from_this();
    boost::asio::co_spawn(ex, [self]() { return self->write_loop(); }, boost::asio::detached);
    boost::asio::co_spawn(ex, [self]() { return self->read_loop(); }, boost::asio::detached);
}

void Watcher::push(nlohmann::json event) {
    if (closed_) return;
    if (pending_.size() >= backlog_) {
        qtalk::log::get("hub")->warn("watcher closed session={} channel={} reason=backlog events={}",
                                     pipe_.channel().session().options().name, pipe_.channel().local_id(),
                                     pending_.size());
        close();
        return;
    }
    pending_.push_back(std::move(event));
    wake_.notify();
}

void Watcher::close() {
    if (closed_) return;
    closed_ = true;
    pending_.clear();
    pipe_.abort();
    wake_.notify();
}

qtalk::rpc::Task<void> Watcher::write_loop() {
    while (!closed_) {
        if (pending_.empty()) {
            co_await wake_.wait();
            continue;
        }
        auto ev = std::move(pending_.front());
        pending_.pop_front();
        if (!co_await pipe_.send(ev)) break;
    }
    close();
}

qtalk::rpc::Task<void> Watcher::read_loop() {
    std::array<std::byte, 4096> sink;
    for (;;) {
        auto n = co_await pipe_.read_some(sink);
        if (!n || *n == 0) break;
    }
    close();  // EOF or CLOSE from the watcher (§5.3)
}

}  // namespace qtalkd
