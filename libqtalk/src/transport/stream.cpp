// The default scatter read of transport::Stream.
#include "qtalk/transport/stream.hpp"

namespace qtalk::transport {

Task<Result<std::size_t>> Stream::read_scatter(std::span<const boost::asio::mutable_buffer> bufs) {
    for (auto& b : bufs)
        if (b.size() > 0) co_return co_await read_some(std::span(static_cast<std::byte*>(b.data()), b.size()));
    co_return std::size_t{0};
}

}  // namespace qtalk::transport
