#include "console/qr.h"

#include <qrencode.h>

#include <memory>

namespace payoutd::console {
namespace {

constexpr int kQuietModules = 4;  // ISO/IEC 18004's quiet zone around the symbol

struct FreeQr {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

std::optional<std::string> qr_svg(std::string_view text) {
  const std::string input(text);
  const std::unique_ptr<QRcode, FreeQr> code(
      QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!code) return std::nullopt;
  const int width = code->width;
  const int size = width + 2 * kQuietModules;
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      // Bit 0 of each module is its colour (1: dark).
      if ((code->data[y * width + x] & 1) == 0) continue;
      path.append("M").append(std::to_string(x + kQuietModules)).append(" ");
      path.append(std::to_string(y + kQuietModules)).append("h1v1h-1z");
    }
  }
  const std::string dimension = std::to_string(size);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" role=\"img\" "
         "aria-label=\"QR code\" viewBox=\"0 0 " +
         dimension + " " + dimension + "\" width=\"" + std::to_string(size * 4) + "\" height=\"" +
         std::to_string(size * 4) +
         "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" "
         "fill=\"#fff\"/><path fill=\"#000\" d=\"" +
         path + "\"/></svg>";
}

}  // namespace payoutd::console
