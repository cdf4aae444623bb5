// SPDX-License-Identifier: BSL-1.0
// eyeballs — a first-in first-out queue for an adapter's pending inputs.
//
// Shared by the libevent and libuv adapters, whose races queue the inputs
// (DNS answers, socket events) that arrive while the machine is being fed.
// A vector and a read position rather than a std::deque: a libstdc++ deque
// allocates its map and a first 512-byte node when it is made, and a node
// each time the queue crosses a node's end; a burst of races holds one queue
// each, so those bytes are page faults (issue 19 item 3, bench/peers/README.md).
// Nothing is allocated until the first push; once drained, the storage is
// kept for the next input, so a race allocates for its inputs once.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace eyeballs::detail {

template <typename T>
class Fifo {
public:
    bool empty() const noexcept { return head_ == items_.size(); }
    void push_back(T item) { items_.push_back(std::move(item)); }
    /// The oldest item, taken out of the queue (which must not be empty).
    T take_front() {
        T item = std::move(items_[head_]);
        if (++head_ == items_.size()) clear();
        return item;
    }
    void clear() noexcept {
        items_.clear();
        head_ = 0;
    }

private:
    std::vector<T> items_;
    std::size_t head_ = 0;  // items_[head_] is the oldest
};

}  // namespace eyeballs::detail
