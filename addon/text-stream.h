// Generated text on its way out: holds back an incomplete UTF-8 sequence at the end, and any tail that could
// still become a stop string, so JS only ever sees text that is final. Scheduler thread only.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace effect_llama {

class text_stream {
public:
    explicit text_stream(std::vector<std::string> stops) : stops(std::move(stops)) {
        this->stops.erase(std::remove(this->stops.begin(), this->stops.end(), std::string()), this->stops.end());
    }

    // Appends a token's piece; returns the text now safe to emit. Sets `stopped` when a stop string completes.
    std::string push(const std::string & piece) {
        text += piece;
        for (const std::string & stop : stops) {
            size_t from = n_sent > stop.size() ? n_sent - stop.size() : 0;
            size_t at = text.find(stop, from);
            if (at != std::string::npos && (!stop_at || at < *stop_at)) {
                stop_at = at;
                stop_string = stop;
            }
        }
        if (stop_at) {
            return take(std::max(*stop_at, n_sent));
        }
        size_t end = std::min(text.size() - partial_stop_length(), utf8_complete_length());
        return take(std::max(end, n_sent));
    }

    // Everything not yet sent (at the end of generation, when no stop string can complete any more).
    std::string flush() { return stop_at ? std::string() : take(text.size()); }

    bool stopped() const { return stop_at.has_value(); }
    const std::string & matched_stop() const { return stop_string; }

private:
    std::string take(size_t end) {
        std::string out = text.substr(n_sent, end - n_sent);
        n_sent = end;
        return out;
    }

    // Longest unsent tail that is a proper prefix of some stop string.
    size_t partial_stop_length() const {
        size_t best = 0;
        size_t unsent = text.size() - n_sent;
        for (const std::string & stop : stops) {
            for (size_t len = std::min(stop.size() - 1, unsent); len > best; len--) {
                if (text.compare(text.size() - len, len, stop, 0, len) == 0) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }

    // Length of `text` without a trailing incomplete UTF-8 sequence.
    size_t utf8_complete_length() const {
        size_t n = text.size();
        for (size_t back = 1; back <= 4 && back <= n; back++) {
            unsigned char c = static_cast<unsigned char>(text[n - back]);
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for the lead byte
            }
            size_t need = (c & 0x80) == 0 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }

    std::vector<std::string> stops;
    std::string text;
    size_t n_sent = 0;
    std::optional<size_t> stop_at;
    std::string stop_string;
};

} // namespace effect_llama
