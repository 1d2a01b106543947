#pragma once
// A table by string key that holds at most `entries_max` entries and forgets the least recently
// used first: what the throttles remember of addresses and credentials stays bounded whatever
// keys strangers send. Every call is O(1) on average. Not thread-safe: its owner holds a lock.
#include <algorithm>
#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace payoutd {

template <class Value>
class LruTable {
 public:
  // At least one entry, whatever `entries_max` says.
  explicit LruTable(std::size_t entries_max)
      : entries_max_(std::max<std::size_t>(entries_max, 1)) {}
  LruTable(const LruTable&) = delete;
  LruTable& operator=(const LruTable&) = delete;

  // The entry of `key`, left where it is in the order of use; nullptr if there is none.
  Value* find(std::string_view key) {
    auto it = entries_.find(std::string(key));
    return it == entries_.end() ? nullptr : &it->second.value;
  }

  // The entry of `key`, now the most recently used. When there is none, `make()` makes it, after
  // the least recently used entry is forgotten if the table is full. The reference holds until
  // the next use() or erase().
  template <class Make>
  Value& use(std::string_view key, Make&& make) {
    auto it = entries_.find(std::string(key));
    if (it != entries_.end()) {
      by_age_.splice(by_age_.end(), by_age_, it->second.age);
      return it->second.value;
    }
    if (entries_.size() >= entries_max_) {
      entries_.erase(by_age_.front());
      by_age_.pop_front();
    }
    by_age_.emplace_back(key);
    return entries_.emplace(by_age_.back(), Entry{make(), std::prev(by_age_.end())})
        .first->second.value;
  }

  // Forgets the entry of `key`, if there is one.
  void erase(std::string_view key) {
    auto it = entries_.find(std::string(key));
    if (it == entries_.end()) return;
    by_age_.erase(it->second.age);
    entries_.erase(it);
  }

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Value value;
    std::list<std::string>::iterator age;  // its place in by_age_
  };

  const std::size_t entries_max_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> by_age_;  // least recently used first
};

}  // namespace payoutd
