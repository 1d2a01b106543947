// The parser of core/json.h: parse().
#include "core/json.h"

#include <algorithm>
#include <cstring>
#include <forward_list>
#include <set>
#include <tuple>

#include "core/json_text.h"

namespace payoutd::json {
namespace {

using detail::append_escaped;
using detail::is_digit;
using detail::is_plain;
using detail::skip_number;
using detail::utf8_sequence_length;

// Objects up to this size are checked for duplicate keys by linear scan (the common case, no
// allocation); larger ones switch to an ordered set, so a hostile object of many keys costs
// O(n log n) comparisons. A tree rather than a hash table: it has no worst case to aim for.
constexpr std::size_t kLinearKeyScanMax = 16;
// How much of a duplicate key the error message quotes; keys can be up to 64 KiB.
constexpr std::size_t kKeyQuotedMax = 40;

bool is_whitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void append_utf8(std::string& out, std::uint32_t code_point) {
  auto byte = [](std::uint32_t b) { return static_cast<char>(b); };
  if (code_point < 0x80) {
    out.push_back(byte(code_point));
  } else if (code_point < 0x800) {
    out.push_back(byte(0xC0 | (code_point >> 6)));
    out.push_back(byte(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(byte(0xE0 | (code_point >> 12)));
    out.push_back(byte(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(byte(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(byte(0xF0 | (code_point >> 18)));
    out.push_back(byte(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(byte(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(byte(0x80 | (code_point & 0x3F)));
  }
}

// Reads 4 hex digits at `p` (the caller guarantees 4 bytes are there); nullopt if not hex.
std::optional<std::uint32_t> read_hex4(const char* p) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = p[i];
    std::uint32_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    value = value << 4 | digit;
  }
  return value;
}

bool is_high_surrogate(std::uint32_t u) { return u >= 0xD800 && u <= 0xDBFF; }
bool is_low_surrogate(std::uint32_t u) { return u >= 0xDC00 && u <= 0xDFFF; }

// At most kKeyQuotedMax bytes of `key`, cut at a code point boundary, escaped for a message.
std::string quote_key(std::string_view key) {
  std::string out = "\"";
  if (key.size() <= kKeyQuotedMax) {
    append_escaped(out, key);
  } else {
    std::size_t cut = kKeyQuotedMax;
    while (cut > 0 && (static_cast<unsigned char>(key[cut]) & 0xC0) == 0x80) --cut;
    append_escaped(out, key.substr(0, cut));
    out += "...";
  }
  out += '"';
  return out;
}

// A string as found in the input: its text between the quotes, and whether that had escapes
// (then the decoded text is elsewhere). Unescaped strings, the common case, are copied only once,
// straight into their final place.
struct StringToken {
  std::string_view raw;
  bool escaped = false;
};

// An open array or object during a parse.
struct Frame {
  Value::Kind kind = Value::Kind::kArray;
  std::size_t first = 0;  // index of this container's first item in Workspace::values or members
  // Objects: the key of the member whose value is being parsed. Its text in the input, and only
  // if that had escapes, its decoded form.
  std::string_view key_raw;
  bool key_escaped = false;
  std::string key_decoded;
  // Keys of this object's members once there are more than kLinearKeyScanMax of them. The views
  // point at storage that outlives the frame: the input text, or Parser::stable_keys_.
  std::set<std::string_view> key_set;
};

// What a parse needs besides its result. Kept per thread and reused, so that parsing a typical
// request body allocates nothing but the Value it returns.
struct Workspace {
  std::vector<Frame> frames;  // [0, depth) are open; the rest wait for reuse
  Value::Array values;        // finished elements of the open arrays, innermost last
  Value::Object members;      // finished members of the open objects, innermost last
};

// A workspace that grew beyond these for one large document is released afterwards rather than
// pinned for the thread's lifetime.
constexpr std::size_t kWorkspaceItemsKept = 256;
constexpr std::size_t kWorkspaceFramesKept = 64;
constexpr std::size_t kWorkspaceKeyBytesKept = 256;

// The iterative parser. Open containers live on `frames_`. Finished items of all open containers
// share two scratch stacks, `values_` for array elements and `members_` for object members, as
// in RapidJSON: when a container closes, its items are moved off the top of the stack into a
// vector of exactly their number, so no container ever reallocates while it is being filled.
// Each value is pushed once it is complete; nothing is built in a placeholder and reassigned.
class Parser {
 public:
  Parser(std::string_view text, const Limits& limits, Workspace& workspace)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        depth_max_(std::min(limits.depth_max, kDepthCeiling)),
        string_bytes_max_(limits.string_bytes_max),
        items_max_(limits.container_items_max),
        trailing_commas_(limits.trailing_commas),
        frames_(workspace.frames),
        values_(workspace.values),
        members_(workspace.members) {}

  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Leaves the workspace empty (and small) for the next parse, also after an error.
  ~Parser() {
    values_.clear();
    members_.clear();
    if (values_.capacity() > kWorkspaceItemsKept) Value::Array().swap(values_);
    if (members_.capacity() > kWorkspaceItemsKept) Value::Object().swap(members_);
    if (frames_.size() > kWorkspaceFramesKept) {
      frames_.resize(kWorkspaceFramesKept);
      frames_.shrink_to_fit();
    }
    for (Frame& frame : frames_) {
      frame.key_set.clear();  // its views may point into the caller's text
      if (frame.key_decoded.capacity() > kWorkspaceKeyBytesKept) {
        std::string().swap(frame.key_decoded);
      }
    }
  }

  ParseResult run() {
    if (!parse_document()) return ParseResult{std::nullopt, std::move(error_)};
    return ParseResult{std::move(root_), ParseError{}};
  }

 private:
  bool parse_document();
  bool parse_value();
  bool after_value();
  bool open_container(Value::Kind kind);
  void close_container();
  void push(Value&& value);
  bool begin_item(std::size_t item_offset);
  bool begin_member();
  bool check_duplicate(Frame& frame, std::size_t key_offset);
  bool parse_string(StringToken* token, std::string* decoded);
  bool parse_string_escaped(std::string& out, const char* open_quote, const char* p);
  bool parse_escape(std::string& out, const char** p);
  bool parse_number();
  bool parse_literal(std::string_view word, Value value);

  std::size_t offset(const char* p) const { return static_cast<std::size_t>(p - begin_); }
  void skip_whitespace() {
    while (p_ < end_ && is_whitespace(*p_)) ++p_;
  }
  bool fail(const char* at, std::string message) {
    error_ = ParseError{offset(at), std::move(message)};
    return false;
  }
  bool fail_unexpected(const char* at) {
    return fail(at, at == end_ ? "unexpected end of input" : "unexpected character");
  }

  // Scratch reserved on first use, so that typical request bodies never grow it.
  static constexpr std::size_t kScratchInitial = 16;
  static constexpr std::size_t kFramesInitial = 8;

  const char* const begin_;
  const char* p_;
  const char* const end_;
  const std::size_t depth_max_;
  const std::size_t string_bytes_max_;
  const std::size_t items_max_;
  const bool trailing_commas_;

  Value root_;
  std::vector<Frame>& frames_;
  std::size_t depth_ = 0;  // frames_[0, depth_) are open
  Value::Array& values_;
  Value::Object& members_;
  bool value_due_ = true;  // the state machine: expecting a value, or what follows one
  // Copies of the keys in Frame::key_set that have no stable text in the input (escaped keys,
  // and the first keys of an object, taken from members_ when it grows large).
  std::forward_list<std::string> stable_keys_;
  ParseError error_;
};

bool Parser::parse_document() {
  for (;;) {
    if (value_due_) {
      if (!parse_value()) return false;
    } else {
      if (depth_ == 0) break;
      if (!after_value()) return false;
    }
  }
  skip_whitespace();
  if (p_ != end_) return fail(p_, "trailing characters");
  return true;
}

// Parses a scalar and pushes it, or opens a container and starts its first item.
bool Parser::parse_value() {
  skip_whitespace();
  if (p_ == end_) return fail_unexpected(p_);
  switch (*p_) {
    case '{':
    case '[': {
      const bool is_object = *p_ == '{';
      if (!open_container(is_object ? Value::Kind::kObject : Value::Kind::kArray)) return false;
      skip_whitespace();
      if (p_ < end_ && *p_ == (is_object ? '}' : ']')) {
        ++p_;
        close_container();
        return true;
      }
      return is_object ? begin_member() : begin_item(offset(p_));
    }
    case '"': {
      StringToken token;
      std::string decoded;
      if (!parse_string(&token, &decoded)) return false;
      push(Value::string(token.escaped ? std::move(decoded) : std::string(token.raw)));
      return true;
    }
    case 't':
      return parse_literal("true", Value::boolean(true));
    case 'f':
      return parse_literal("false", Value::boolean(false));
    case 'n':
      return parse_literal("null", Value::null());
    default:
      if (*p_ == '-' || is_digit(*p_)) return parse_number();
      return fail_unexpected(p_);
  }
}

// After a value inside a container: a comma and the next item, or the container's end.
bool Parser::after_value() {
  skip_whitespace();
  if (p_ == end_) return fail_unexpected(p_);
  const bool is_object = frames_[depth_ - 1].kind == Value::Kind::kObject;
  const char closer = is_object ? '}' : ']';
  if (*p_ == closer) {
    ++p_;
    close_container();
    return true;
  }
  if (*p_ != ',') return fail(p_, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
  const char* const comma = p_++;
  skip_whitespace();
  if (p_ < end_ && *p_ == closer) {
    if (!trailing_commas_) return fail(comma, "trailing comma");
    ++p_;
    close_container();
    return true;
  }
  value_due_ = true;
  return is_object ? begin_member() : begin_item(offset(p_));
}

bool Parser::open_container(Value::Kind kind) {
  if (depth_ >= depth_max_) return fail(p_, "nesting too deep");
  ++p_;
  if (frames_.empty()) frames_.reserve(std::min(kFramesInitial, depth_max_));
  if (depth_ == frames_.size()) frames_.emplace_back();
  Frame& frame = frames_[depth_++];
  frame.kind = kind;
  frame.key_set.clear();  // a reused frame may hold a previous object's keys
  if (kind == Value::Kind::kArray) {
    if (values_.capacity() == 0) values_.reserve(kScratchInitial);
    frame.first = values_.size();
  } else {
    if (members_.capacity() == 0) members_.reserve(kScratchInitial);
    frame.first = members_.size();
  }
  value_due_ = true;
  return true;
}

// Moves the innermost container's items off the scratch stack into a Value and pushes it.
void Parser::close_container() {
  const Frame& frame = frames_[--depth_];
  if (frame.kind == Value::Kind::kArray) {
    const auto first = values_.begin() + static_cast<std::ptrdiff_t>(frame.first);
    Value done = Value::array(
        Value::Array(std::make_move_iterator(first), std::make_move_iterator(values_.end())));
    values_.erase(first, values_.end());
    push(std::move(done));
  } else {
    const auto first = members_.begin() + static_cast<std::ptrdiff_t>(frame.first);
    Value done = Value::object(
        Value::Object(std::make_move_iterator(first), std::make_move_iterator(members_.end())));
    members_.erase(first, members_.end());
    push(std::move(done));
  }
}

// Delivers a complete value to where it belongs: the root, or the innermost open container.
void Parser::push(Value&& value) {
  value_due_ = false;
  if (depth_ == 0) {
    root_ = std::move(value);
    return;
  }
  Frame& top = frames_[depth_ - 1];
  if (top.kind == Value::Kind::kArray) {
    values_.push_back(std::move(value));
  } else {
    if (top.key_escaped) {
      members_.emplace_back(std::move(top.key_decoded), std::move(value));
    } else {
      members_.emplace_back(std::piecewise_construct, std::forward_as_tuple(top.key_raw),
                            std::forward_as_tuple(std::move(value)));
    }
  }
}

// Checks that the array may take one more element (which starts at `item_offset`).
bool Parser::begin_item(std::size_t item_offset) {
  if (values_.size() - frames_[depth_ - 1].first >= items_max_) {
    return fail(begin_ + item_offset, "too many items");
  }
  return true;
}

// Parses `"key" :` of the next member into the frame; its value is parsed next.
bool Parser::begin_member() {
  Frame& frame = frames_[depth_ - 1];
  if (p_ == end_) return fail_unexpected(p_);
  if (*p_ != '"') return fail(p_, "expected string key");
  if (members_.size() - frame.first >= items_max_) return fail(p_, "too many items");
  const char* const key_start = p_;
  StringToken token;
  if (!parse_string(&token, &frame.key_decoded)) return false;
  frame.key_raw = token.raw;
  frame.key_escaped = token.escaped;
  if (!check_duplicate(frame, offset(key_start))) return false;
  skip_whitespace();
  if (p_ == end_ || *p_ != ':') return fail(p_, "expected ':'");
  ++p_;
  return true;
}

// Whether the frame's pending key is new in its object.
bool Parser::check_duplicate(Frame& frame, std::size_t key_offset) {
  const std::string_view key = frame.key_escaped ? frame.key_decoded : frame.key_raw;
  const auto first = members_.begin() + static_cast<std::ptrdiff_t>(frame.first);
  const auto duplicate = [&] {
    return fail(begin_ + key_offset, "duplicate key " + quote_key(key));
  };
  if (members_.end() - first < static_cast<std::ptrdiff_t>(kLinearKeyScanMax)) {
    for (auto it = first; it != members_.end(); ++it) {
      if (it->first == key) return duplicate();
    }
    return true;
  }
  // Member keys move when members_ grows, so the set holds views of stable copies.
  const auto stable = [this](std::string_view k) -> std::string_view {
    return stable_keys_.emplace_front(k);
  };
  if (frame.key_set.empty()) {
    for (auto it = first; it != members_.end(); ++it) frame.key_set.insert(stable(it->first));
  }
  const std::string_view stable_key = frame.key_escaped ? stable(key) : key;
  if (!frame.key_set.insert(stable_key).second) return duplicate();
  return true;
}

// Parses the string whose opening quote is at p_ into `*token`, decoding it into `*decoded` only
// if it has escapes. The fast path just finds the closing quote, validating as it goes.
bool Parser::parse_string(StringToken* token, std::string* decoded) {
  const char* const open_quote = p_;
  const char* const start = p_ + 1;
  const char* p = start;
  while (p < end_) {
    if (is_plain(*p)) {
      ++p;
    } else if (*p == '"') {
      const std::size_t size = static_cast<std::size_t>(p - start);
      if (size > string_bytes_max_) return fail(open_quote, "string too long");
      *token = StringToken{std::string_view(start, size), false};
      p_ = p + 1;
      return true;
    } else if (*p == '\\') {
      if (!parse_string_escaped(*decoded, open_quote, p)) return false;
      *token = StringToken{std::string_view(start, static_cast<std::size_t>(p_ - 1 - start)), true};
      return true;
    } else if (static_cast<unsigned char>(*p) < 0x20) {
      return fail(p, "control character in string");
    } else if (const std::size_t length = utf8_sequence_length(p, end_); length != 0) {
      p += length;
    } else {
      return fail(p, "invalid UTF-8");
    }
  }
  return fail(end_, "unterminated string");
}

// The slow path of parse_string, from the first backslash at `p` on: decodes into `out`.
bool Parser::parse_string_escaped(std::string& out, const char* open_quote, const char* p) {
  const char* const start = open_quote + 1;
  out.assign(start, static_cast<std::size_t>(p - start));
  while (p < end_) {
    if (out.size() > string_bytes_max_) return fail(open_quote, "string too long");
    if (is_plain(*p)) {
      const char* const run = p;
      while (p < end_ && is_plain(*p)) ++p;
      out.append(run, p);
    } else if (*p == '"') {
      p_ = p + 1;
      return true;
    } else if (*p == '\\') {
      if (!parse_escape(out, &p)) return false;
    } else if (static_cast<unsigned char>(*p) < 0x20) {
      return fail(p, "control character in string");
    } else if (const std::size_t length = utf8_sequence_length(p, end_); length != 0) {
      out.append(p, length);
      p += length;
    } else {
      return fail(p, "invalid UTF-8");
    }
  }
  return fail(end_, "unterminated string");
}

// Decodes the escape at `*p` (a backslash) into `out` and advances `*p` past it.
bool Parser::parse_escape(std::string& out, const char** p) {
  const char* const backslash = *p;
  if (end_ - backslash < 2) return fail(end_, "unterminated string");
  char simple = 0;
  switch (backslash[1]) {
    case '"':
      simple = '"';
      break;
    case '\\':
      simple = '\\';
      break;
    case '/':
      simple = '/';
      break;
    case 'b':
      simple = '\b';
      break;
    case 'f':
      simple = '\f';
      break;
    case 'n':
      simple = '\n';
      break;
    case 'r':
      simple = '\r';
      break;
    case 't':
      simple = '\t';
      break;
    case 'u':
      break;
    default:
      return fail(backslash, "invalid escape");
  }
  if (simple != 0) {
    out.push_back(simple);
    *p = backslash + 2;
    return true;
  }
  // \uXXXX, and for a high surrogate the \uXXXX low surrogate that must follow it.
  if (end_ - backslash < 6) return fail(backslash, "invalid unicode escape");
  const std::optional<std::uint32_t> unit = read_hex4(backslash + 2);
  if (!unit) return fail(backslash, "invalid unicode escape");
  std::uint32_t code_point = *unit;
  const char* next = backslash + 6;
  if (is_low_surrogate(code_point)) return fail(backslash, "unpaired surrogate");
  if (is_high_surrogate(code_point)) {
    if (end_ - next < 6 || next[0] != '\\' || next[1] != 'u') {
      return fail(backslash, "unpaired surrogate");
    }
    const std::optional<std::uint32_t> low = read_hex4(next + 2);
    if (!low) return fail(next, "invalid unicode escape");
    if (!is_low_surrogate(*low)) return fail(backslash, "unpaired surrogate");
    code_point = 0x10000 + ((code_point - 0xD800) << 10) + (*low - 0xDC00);
    next += 6;
  }
  append_utf8(out, code_point);
  *p = next;
  return true;
}

bool Parser::parse_number() {
  const char* const start = p_;
  const char* bad = nullptr;
  const char* const end = skip_number(start, end_, &bad);
  if (end == nullptr) return fail(bad, "invalid number");
  // "01" would otherwise parse as 0 followed by garbage; name the real problem.
  const char* const first_digit = *start == '-' ? start + 1 : start;
  if (*first_digit == '0' && end - first_digit == 1 && end < end_ && is_digit(*end)) {
    return fail(first_digit, "leading zero");
  }
  const std::size_t size = static_cast<std::size_t>(end - start);
  if (size > string_bytes_max_) return fail(start, "number too long");
  p_ = end;
  push(Value::number(std::string(start, size)));
  return true;
}

bool Parser::parse_literal(std::string_view word, Value value) {
  if (static_cast<std::size_t>(end_ - p_) < word.size() ||
      std::memcmp(p_, word.data(), word.size()) != 0) {
    return fail(p_, "invalid literal");
  }
  p_ += word.size();
  push(std::move(value));
  return true;
}

}  // namespace

ParseResult parse(std::string_view text, const Limits& limits) {
  // parse() calls out to nothing that could parse again on this thread, so one is enough.
  thread_local Workspace workspace;
  return Parser(text, limits, workspace).run();
}

}  // namespace payoutd::json
