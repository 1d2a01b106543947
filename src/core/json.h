#pragma once
// A strict RFC 8259 JSON parser and a compact writer that never touch binary floating point.
//
// Money arrives in request bodies as JSON numbers ("value":100.50). Converting such a literal to
// double even once can change the amount, so this parser keeps every number as its exact
// literal text and leaves the interpretation to the caller (see core/money.h).
//
// The parser is fed hostile network input. Bad input never makes it throw; it never recurses
// (nesting is handled with an explicit stack), never reads outside `text`, and bounds the work
// and memory one document can cost through Limits. Anything outside the strict grammar is
// rejected rather than guessed at: comments, trailing commas, single quotes, NaN, leading zeros,
// invalid UTF-8, lone surrogates and duplicate object keys (two parsers in a chain that keep
// different duplicates are a classic request-smuggling hole).
//
// Thread safety: parse(), to_string() and the free functions may be called from any number of
// threads at once. A Value is a plain value type: concurrent const access is safe; mutation
// (assignment) needs external synchronization, as for std::vector. A Writer is used by one
// thread at a time.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace payoutd::json {

// Caps on what one document may cost. The defaults suit payout request bodies with a wide margin.
struct Limits {
  // Maximum nesting of arrays and objects; a bare scalar has depth 0, "[[]]" has depth 2.
  // Destroying and copying a Value recurse once per level, so whatever is asked for here,
  // parse() never accepts more than kDepthCeiling levels.
  std::size_t depth_max = 32;
  // Maximum bytes of each string and object key after unescaping. Number literals are kept as
  // text, so the same cap applies to each number literal.
  std::size_t string_bytes_max = 64 * 1024;
  // Maximum elements of each array and members of each object.
  std::size_t container_items_max = 4096;
  // Accept one comma before a closing '}' or ']' ({"a":1,}). Off by default; a dialect whose
  // provider documents such bodies as valid (Bereke's registerPayout example) turns it on.
  bool trailing_commas = false;
};

// Hard upper bound on Limits::depth_max: keeps recursion in ~Value and copying shallow (a
// 512-level document is parsed and destroyed on a 512 KiB stack, even under AddressSanitizer).
inline constexpr std::size_t kDepthCeiling = 512;

// A parsed JSON value. Numbers are stored as their literal text; strings as unescaped UTF-8.
// Destroying, copying and comparing a Value recurse once per nesting level: parse() never
// produces more than kDepthCeiling levels, and code building Values by hand should stay as shallow.
class Value {
 public:
  enum class Kind : std::uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Value>;
  using Member = std::pair<std::string, Value>;
  using Object = std::vector<Member>;  // document order preserved

  Value();  // null

  static Value null();
  static Value boolean(bool b);
  // REQUIRES: `literal` matches the JSON number grammar (see is_number_literal); asserted.
  static Value number(std::string literal);
  // REQUIRES: `s` is valid UTF-8 (the Writer replaces invalid bytes with U+FFFD otherwise).
  static Value string(std::string s);
  static Value array(Array items);
  // REQUIRES: no two members share a key (parse() guarantees it for its results).
  static Value object(Object members);

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_number() const { return kind() == Kind::kNumber; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_object() const { return kind() == Kind::kObject; }

  // Accessors have a precondition on kind(); callers check kind first. A mismatch is a bug:
  // it fails an assert in debug builds and yields false/empty in release builds (never UB).
  bool as_bool() const;
  std::string_view number_text() const;  // exact literal from the input, e.g. "100.50", "-0"
  const std::string& as_string() const;  // unescaped UTF-8; may contain NUL ("\u0000")
  const Array& as_array() const;
  const Object& as_object() const;

  // The member named `key` of an object (linear scan: objects here are small); nullptr if
  // absent or if this is not an object.
  const Value* find(std::string_view key) const;

  // The value of a number literal that is a plain integer (no '.', no exponent) within int64
  // range ("-0" gives 0); nullopt for anything else, including non-numbers and "1.0".
  std::optional<std::int64_t> as_int64() const;

  // Structural equality; numbers compare by literal text, so "1.0" != "1".
  bool operator==(const Value& other) const = default;

 private:
  // A distinct type so that a number and a string with the same text differ.
  struct Number {
    std::string literal;
    bool operator==(const Number& other) const = default;
  };
  // Alternative order matches Kind.
  using Data = std::variant<std::monostate, bool, Number, std::string, Array, Object>;

  // Constructs the alternative in place: no intermediate variant to move.
  template <typename T, typename Arg>
  Value(std::in_place_type_t<T> type, Arg&& arg) : data_(type, std::forward<Arg>(arg)) {}

  Data data_;
};

struct ParseError {
  std::size_t offset = 0;  // byte offset in the input where the problem was found
  std::string message;     // short English, e.g. "unexpected character", "duplicate key \"x\""
};

// Exactly one of: `value` set (and `error` empty), or `value` empty and `error` describing the
// first problem.
struct ParseResult {
  std::optional<Value> value;
  ParseError error;
};

// Parses exactly one JSON value with optional surrounding whitespace (space, tab, CR, LF).
// Never throws (short of std::bad_alloc), never reads outside `text`; the result owns all its
// data and does not refer to `text`. On error, `error.offset` is where the first problem was
// found and nothing else of the input is reported.
//
// Work is linear in the input size (duplicate-key checks are O(log n) per key in large objects).
// Each thread keeps a small scratch workspace between calls, so that a typical request body
// costs only the allocations of the Value returned; a workspace grown by a large document is
// released after it.
//
// Error messages: "unexpected end of input", "unexpected character", "trailing characters",
// "trailing comma", "expected string key", "expected ':'", "expected ',' or ']'",
// "expected ',' or '}'", "invalid literal", "invalid number", "leading zero",
// "unterminated string", "control character in string", "invalid escape",
// "invalid unicode escape", "unpaired surrogate", "invalid UTF-8", "duplicate key \"k\"" (the key
// escaped and shortened to 40 bytes), "nesting too deep", "too many items", "string too long",
// "number too long".
ParseResult parse(std::string_view text, const Limits& limits = {});

// Whether `text` is exactly one JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_number_literal(std::string_view text);

// Compact JSON writer appending to a caller-owned string, which must outlive the Writer.
// It inserts commas itself but trusts the call sequence: the caller opens and closes containers
// in order and calls key() exactly before each object member's value. It does not validate.
//
//   std::string out;
//   json::Writer w(out);
//   w.begin_object().key("value").number_raw("100.50").key("currency").string("RUB").end_object();
//   // out == R"({"value":100.50,"currency":"RUB"})"
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  // Escapes '"', '\\' and control characters (as \u00XX); passes valid UTF-8 through and
  // replaces each byte of an invalid UTF-8 sequence with U+FFFD, so the output is always JSON.
  Writer& string(std::string_view s);
  // A trusted literal such as "100.50". REQUIRES: is_number_literal(literal); asserted.
  Writer& number_raw(std::string_view literal);
  Writer& integer(std::int64_t v);
  Writer& boolean(bool v);
  Writer& null();
  // Serializes a Value (numbers via their literal), iteratively.
  Writer& value(const Value& v);
  // One complete JSON value that this writer (or to_string) produced before, stored as text.
  // Trusted: not validated.
  Writer& raw(std::string_view json);

 private:
  // Appends the comma that separates this item from the previous sibling, if there is one.
  void begin_item();
  // An item whose text is complete as it stands (a number, true, false, null, trusted JSON).
  Writer& scalar(std::string_view text);

  std::string& out_;
  // True right after a complete item: the next item at this level needs a comma first.
  bool comma_due_ = false;
};

// Compact serialization of `v`.
std::string to_string(const Value& v);

// Members of a document payoutd wrote itself (a store record): the string member `key` of `v`, or
// "" when it is absent or not a string; the integer member, or 0.
std::string string_member(const Value& v, std::string_view key);
std::int64_t int_member(const Value& v, std::string_view key);

}  // namespace payoutd::json
