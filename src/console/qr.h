#pragma once
// QR codes as inline SVG (libqrencode): the console shows a TOTP secret's otpauth:// URI so that
// an authenticator app scans it. No image file, no script: the page's strict CSP allows inline
// SVG markup.
#include <optional>
#include <string>
#include <string_view>

namespace payoutd::console {

// An <svg> of `text` as a QR code (error correction M, a 4-module quiet zone), one <path> of dark
// modules; nullopt when the text does not fit a QR code.
std::optional<std::string> qr_svg(std::string_view text);

}  // namespace payoutd::console
