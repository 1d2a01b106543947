#pragma once
// Values to and from PostgreSQL, in its text format: a statement's result and its rows (read as
// rows.h's readers expect), a statement's parameters, and the array parameters that carry a whole
// batch's rows in one statement.
#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/assert.h"
#include "store/rows.h"

namespace payoutd::store::postgres {

class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() {
    if (r_) PQclear(r_);
  }
  Result(Result&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
  Result& operator=(Result&& other) noexcept {
    if (this != &other) {
      if (r_) PQclear(r_);
      r_ = std::exchange(other.r_, nullptr);
    }
    return *this;
  }
  int rows() const { return r_ ? PQntuples(r_) : 0; }
  int affected() const {
    const char* n = r_ ? PQcmdTuples(r_) : "";
    int value = 0;
    std::from_chars(n, n + std::strlen(n), value);
    return value;
  }
  const PGresult* raw() const { return r_; }

 private:
  PGresult* r_ = nullptr;
};

// One row of a result, read as rows.h's readers expect.
class Row {
 public:
  Row(const Result& result, int row) : r_(result.raw()), row_(row) {}
  std::int64_t i64(int col) const {
    const char* v = PQgetvalue(r_, row_, col);
    std::int64_t value = 0;
    const auto parsed = std::from_chars(v, v + PQgetlength(r_, row_, col), value);
    if (parsed.ec != std::errc()) throw StorageError(std::string("not an integer: ") + v);
    return value;
  }
  int i32(int col) const { return static_cast<int>(i64(col)); }
  std::string text(int col) const {
    return std::string(PQgetvalue(r_, row_, col),
                       static_cast<std::size_t>(PQgetlength(r_, row_, col)));
  }
  bool is_null(int col) const { return PQgetisnull(r_, row_, col) != 0; }

 private:
  const PGresult* r_;
  int row_;
};

// A row's first column as text.
inline std::string read_text(const Row& row) { return row.text(0); }

// The result's first row read by `read`, or nullopt when it has none.
template <typename Read>
auto first_row(const Result& r, Read read) -> std::optional<decltype(read(Row(r, 0)))> {
  if (!r.rows()) return std::nullopt;
  return read(Row(r, 0));
}

// Every row of the result, each read by `read`.
template <typename Read>
auto all_rows(const Result& r, Read read) -> std::vector<decltype(read(Row(r, 0)))> {
  std::vector<decltype(read(Row(r, 0)))> result;
  result.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) result.push_back(read(Row(r, i)));
  return result;
}

// Parameters of a statement, sent as text.
class Params {
 public:
  Params& add(std::int64_t v) {
    values_.push_back(std::to_string(v));
    return *this;
  }
  Params& add(std::string_view v) {
    values_.emplace_back(v);
    return *this;
  }
  Params& add(std::string&& v) {
    values_.push_back(std::move(v));
    return *this;
  }
  Params& add(const OwnedText& v) { return add(std::string_view(v.text)); }
  // Adds the record's columns that a field table of rows.h names, in order.
  template <typename Record, typename Table>
  Params& add_fields(const Record& record, const Table& fields) {
    put_fields(record, fields, [this](auto value) { add(value); });
    return *this;
  }
  Params& append(Params&& other) {
    for (std::string& v : other.values_) values_.push_back(std::move(v));
    return *this;
  }
  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> pointers() const {
    std::vector<const char*> p;
    p.reserve(values_.size());
    for (const std::string& v : values_) p.push_back(v.c_str());
    return p;
  }

 private:
  std::vector<std::string> values_;
};

// Parameters from values, in order.
template <typename... Values>
Params params_of(const Values&... values) {
  Params p;
  (p.add(values), ...);
  return p;
}

// An array parameter in PostgreSQL's text form: {1,2} or {"a","b\"c"}.
class ArrayText {
 public:
  ArrayText() { out_.push_back('{'); }
  void add(std::int64_t v) {
    separate();
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    out_.append(digits, end);
  }
  void add(const OwnedText& v) { add(std::string_view(v.text)); }
  void add(std::string_view v) {
    separate();
    out_.push_back('"');
    for (char c : v) {
      if (c == '"' || c == '\\') out_.push_back('\\');
      out_.push_back(c);
    }
    out_.push_back('"');
  }
  std::string done() {
    out_.push_back('}');
    return std::move(out_);
  }

 private:
  void separate() {
    if (out_.size() > 1) out_.push_back(',');
  }
  std::string out_;
};

// Columns of arrays, one per statement parameter, filled row by row: a batch's rows sent as one
// statement over unnest().
template <std::size_t N>
class Columns {
 public:
  template <typename... Values>
  void row(const Values&... values) {
    static_assert(sizeof...(Values) == N);
    (add(values), ...);
  }
  // The next value of the row being filled, in column order; a row is complete after N.
  template <typename Value>
  void add(const Value& value) {
    columns_[next_].add(value);
    next_ = (next_ + 1) % N;
    if (next_ == 0) ++rows_;
  }
  // SQL NULL travels as 0 inside an array (whether an unquoted NULL element is one depends on
  // the server's array_nulls); a statement taking such a column turns 0 back into NULL.
  void add(std::nullptr_t) { add(std::int64_t{0}); }
  // Adds the record's columns that a field table of rows.h names, in order.
  template <typename Record, typename Table>
  void add_fields(const Record& record, const Table& fields) {
    put_fields(record, fields, [this](auto value) { add(value); });
  }
  bool empty() const { return rows_ == 0; }
  Params params() {
    PAYOUTD_ASSERT(next_ == 0, "a row of array parameters is complete before they are sent");
    Params p;
    for (ArrayText& c : columns_) p.add(c.done());
    return p;
  }

 private:
  std::array<ArrayText, N> columns_;
  std::size_t next_ = 0;  // the column the next value goes to
  std::size_t rows_ = 0;
};

}  // namespace payoutd::store::postgres
