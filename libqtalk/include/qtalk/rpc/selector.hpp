// Selector normalisation (PROTOCOL §4.6, Go ref; normative): "" -> "/", prepend "/" if missing,
// every "." -> "/". Nothing else.
#pragma once
#include <string>
#include <string_view>

namespace qtalk::rpc {

std::string normalize_selector(std::string_view selector);

}  // namespace qtalk::rpc
