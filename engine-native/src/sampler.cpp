#include "sampler.h"

#include <algorithm>
#include <cmath>

void sx_sampler_init(sx_sampler & s, const sx_sampling_params & params) {
    s.params = params;
    s.rng.seed(params.seed);
}

llama_token sx_argmax(const float * logits, int32_t n_vocab) {
    int32_t best = 0;
    for (int32_t i = 1; i < n_vocab; ++i) {
        if (logits[i] > logits[best]) {
            best = i;
        }
    }
    return best;
}

llama_token sx_sampler_sample(sx_sampler & s, const float * logits, int32_t n_vocab) {
    const sx_sampling_params & p = s.params;
    if (p.temperature <= 0.0f) {
        return sx_argmax(logits, n_vocab);
    }
    auto & cand = s.scratch;
    cand.resize(n_vocab);
    for (int32_t i = 0; i < n_vocab; ++i) {
        cand[i] = { logits[i] / p.temperature, i };
    }
    // sort by logit, ties by token id, so the order (and the draw) is fully deterministic
    auto by_logit = [](const std::pair<float, llama_token> & a, const std::pair<float, llama_token> & b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    };
    size_t k = p.top_k > 0 ? std::min<size_t>(p.top_k, cand.size()) : cand.size();
    std::partial_sort(cand.begin(), cand.begin() + k, cand.end(), by_logit);
    cand.resize(k);

    const float max_logit = cand[0].first;
    double      sum       = 0.0;
    for (auto & c : cand) {
        c.first = std::exp(c.first - max_logit);
        sum += c.first;
    }
    if (p.top_p < 1.0f) {
        double kept = 0.0;
        size_t n    = 0;
        while (n < cand.size() && kept < p.top_p * sum) {
            kept += cand[n++].first;
        }
        cand.resize(std::max<size_t>(n, 1));
        sum = kept > 0.0 ? kept : cand[0].first;
    }
    std::uniform_real_distribution<double> uniform(0.0, sum);
    double                                 u = uniform(s.rng);
    for (const auto & c : cand) {
        u -= c.first;
        if (u <= 0.0) {
            return c.second;
        }
    }
    return cand.back().second;
}
