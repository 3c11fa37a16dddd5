// Translation of Asio/Boost error codes into the std::error_code values qtalk returns:
// clean end of stream becomes transport::Errc::eof, local cancellation Errc::closed.
#pragma once
#include <system_error>

#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include "qtalk/transport/errc.hpp"

namespace qtalk::transport::detail {

inline std::error_code translate(const boost::system::error_code& ec) {
    if (ec == boost::asio::error::eof) return Errc::eof;
    if (ec == boost::asio::error::operation_aborted || ec == boost::asio::error::bad_descriptor) return Errc::closed;
    return ec;  // Boost converts system-category codes to std::system_category
}

}  // namespace qtalk::transport::detail
