#pragma once
// A column: a read-only array of plain records, the unit the snapshot's population
// side is stored in. A column either owns its elements (a std::vector the load fills
// through Build()) or views memory it does not own (a compiled image mapped into the
// process, engine/image). Readers cannot tell the two apart, and since the elements
// are trivially copyable and hold no pointers (references between columns are 32-bit
// positions and Ranges), a column can be written to a file and mapped back as is.

#include <cstddef>
#include <cassert>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace preflight {

// A slice [begin, begin + count) of an arena column: the values of one attribute, the
// accounts of one identity.
struct Range {
  uint32_t begin = 0, count = 0;
  friend bool operator==(const Range&, const Range&) = default;
};

template <class T>
class Column {
  static_assert(std::is_trivially_copyable_v<T>, "a column holds plain records only");

 public:
  using value_type = T;

  Column() = default;
  // Copying a viewing column copies the view; copying an owning one copies the elements.
  Column(const Column& o) { *this = o; }
  Column& operator=(const Column& o) {
    if (this == &o) return *this;
    owned_ = o.owned_;
    viewing_ = o.viewing_;
    data_ = viewing_ ? o.data_ : owned_.data();
    size_ = o.size_;
    return *this;
  }
  Column(Column&& o) noexcept { *this = std::move(o); }
  Column& operator=(Column&& o) noexcept {
    owned_ = std::move(o.owned_);
    viewing_ = o.viewing_;
    data_ = viewing_ ? o.data_ : owned_.data();
    size_ = o.size_;
    o.Clear();
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](size_t i) const {
    assert(i < size_);
    return data_[i];
  }
  const T* data() const { return data_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  std::span<const T> span() const { return {data_, size_}; }
  std::span<const T> span(Range r) const { return {data_ + r.begin, r.count}; }
  // The bytes of the elements (what an image stores), not the vector's spare capacity.
  size_t bytes() const { return size_ * sizeof(T); }
  bool viewing() const { return viewing_; }

  // The owned elements, to fill while building; a viewing column becomes an empty owning
  // one. Readers read a cached pointer (the hot path pays no branch): they see what was
  // built once Seal() is called, and between Build() and Seal() nobody reads the column.
  std::vector<T>& Build() {
    if (viewing_) Clear();
    return owned_;
  }
  // Readers see the vector's elements as they are now (call again after it grows).
  void Seal() { Sync(); }
  // Done building: the vector's spare capacity is released, and readers see it.
  void Compact() {
    owned_.shrink_to_fit();
    Sync();
  }
  // Views n elements at data, owned by someone else who keeps them alive and unchanged.
  void View(const T* data, size_t n) {
    owned_ = std::vector<T>();
    viewing_ = true;
    data_ = data;
    size_ = n;
  }
  void Clear() {
    owned_ = std::vector<T>();
    viewing_ = false;
    data_ = nullptr;
    size_ = 0;
  }

 private:
  void Sync() {
    data_ = owned_.data();
    size_ = owned_.size();
  }
  std::vector<T> owned_;
  const T* data_ = nullptr;
  size_t size_ = 0;
  bool viewing_ = false;
};

}  // namespace preflight
