#include "budget.h"

#include <algorithm>
#include <cmath>

// the calibration: piecewise linear, beyond the last point linear from the last two
static double interpolate(const std::vector<int32_t> & batch, const std::vector<double> & ms, int32_t n) {
    if (batch.empty()) {
        return 1.0;
    }
    if (n <= batch.front()) {
        return ms.front();
    }
    for (size_t i = 1; i < batch.size(); ++i) {
        if (n <= batch[i]) {
            const double f = double(n - batch[i - 1]) / double(batch[i] - batch[i - 1]);
            return ms[i - 1] + f * (ms[i] - ms[i - 1]);
        }
    }
    // beyond the last point: linear in the batch size from the last two points
    const size_t k = batch.size() - 1;
    if (k == 0) {
        return ms[0] * n / std::max(batch[0], 1);
    }
    const double slope = std::max(0.0, (ms[k] - ms[k - 1]) / double(batch[k] - batch[k - 1]));
    return ms[k] + slope * (n - batch[k]);
}

double sx_cost_curve::at(int32_t n) const {
    return scale * interpolate(batch, ms, n);
}

void sx_cost_curve::observe(int32_t n, double measured) {
    if (batch.empty() || !(measured > 0)) {
        return;
    }
    // passes in a generation pay what back-to-back calibration passes do not (waking the threads,
    // caches refilled after sampling and streaming), and the machine's speed drifts, which scales
    // every pass alike: every pass scales the whole curve a little; the calibration point nearest
    // to it (by batch ratio) moves towards it too, for what is particular to its size. (A shift by
    // the same milliseconds for all would make small passes look dearer than they are after a run
    // of large ones, and keep `auto` from coming back to a smaller budget.)
    size_t nearest = 0;
    for (size_t i = 1; i < batch.size(); ++i) {
        if (std::fabs(std::log((double) batch[i] / n)) < std::fabs(std::log((double) batch[nearest] / n))) {
            nearest = i;
        }
    }
    const double step = 1.0 + 0.1 * (measured / at(n) - 1.0);
    scale *= step;
    ms[nearest] *= step;
}

void sx_budget_init(sx_budget & b, int32_t max_budget) {
    b.candidates.assign(1, 0);  // 0: no draft at all, when speculation does not pay
    // trees of 2^n - 1 nodes: with the root, passes of 2^n tokens, the batch sizes the calibration
    // measures. On a CPU a pass of 2^n + 1 tokens costs nearly what 2^(n+1) do (3 ~ 4, 9 ~ 16: the
    // matrix kernels work in tiles), so these are also the trees worth verifying
    for (int32_t k = 1; k <= max_budget; k = 2 * k + 1) {
        b.candidates.push_back(k);
    }
    b.tokens_per_pass.assign(b.candidates.size(), 0.0);
    b.seen.assign(b.candidates.size(), 0);
    b.other_ms.assign(b.candidates.size(), 0.0);
    b.rounds_at.assign(b.candidates.size(), 0);
    b.rounds = 0;
}

static int32_t index_of(const sx_budget & b, int32_t k) {
    for (size_t i = 0; i < b.candidates.size(); ++i) {
        if (b.candidates[i] >= k) {
            return (int32_t) i;
        }
    }
    return (int32_t) b.candidates.size() - 1;
}

// how many prior observations the fitted curve is worth against a candidate's own mean
static const double PRIOR_WEIGHT = 2.0;

double sx_budget_expected_tokens(const sx_budget & b, int32_t k) {
    if (k <= 0) {
        return 1.0;
    }
    // a in 1 + a*log2(1+k): the slopes the observed means imply, averaged by their observations,
    // with a prior slope of 0.5 worth PRIOR_WEIGHT observations (a first round or two that accepted
    // nothing do not yet mean that drafting never pays). A least-squares fit would weigh the largest
    // budgets by log2(1+k)^2: one round at 1023 that accepted nothing, which every candidate
    // observes, outweighed fifty rounds at 1.
    double num = PRIOR_WEIGHT * 0.5, den = PRIOR_WEIGHT;
    for (size_t j = 0; j < b.candidates.size(); ++j) {
        if (b.seen[j] > 0 && b.candidates[j] > 0) {
            num += b.seen[j] * (b.tokens_per_pass[j] - 1.0) / std::log2(1.0 + b.candidates[j]);
            den += b.seen[j];
        }
    }
    const double  a     = std::max(0.0, num / den);
    const double  prior = 1.0 + a * std::log2(1.0 + k);
    const int32_t i     = index_of(b, k);
    if (b.candidates[i] != k || b.seen[i] == 0) {
        return prior;
    }
    // a few rounds say little (tokens per round vary from 1 to the tree's depth): shrink them
    return (b.seen[i] * b.tokens_per_pass[i] + PRIOR_WEIGHT * prior) / (b.seen[i] + PRIOR_WEIGHT);
}

double sx_budget_expected_ms(const sx_budget & b, int32_t k) {
    const int32_t i = index_of(b, k);
    double        other;  // the round's time besides its target pass
    if (b.candidates[i] == k && b.rounds_at[i] >= 2) {
        other = b.other_ms[i];
    } else if (k == 0) {
        other = 0;
    } else {
        // best-first growth: about log2(k) + 1 draft passes of k / passes nodes each, then one
        // pass over the bonus token
        const int32_t passes = std::min<int32_t>(b.max_depth, 1 + (int32_t) std::ceil(std::log2(1.0 + k)));
        other                = passes * b.draft.at(std::max(1, k / passes)) + b.draft.at(1);
    }
    return other + b.target.at(k + 1);
}

static double expected_rate(const sx_budget & b, int32_t k) {
    return sx_budget_expected_tokens(b, k) / sx_budget_expected_ms(b, k);
}

// The tokens per pass budget k may still turn out to yield: its estimate plus a bonus that shrinks
// with its observations and grows slowly with the rounds (UCB)
static double optimistic_tokens(const sx_budget & b, int32_t k) {
    const int32_t i = index_of(b, k);
    return sx_budget_expected_tokens(b, k) + 0.3 * std::sqrt(std::log(1.0 + b.rounds) / (1.0 + b.seen[i]));
}

int32_t sx_budget_choose(sx_budget & b, int32_t limit) {
    int32_t best      = 0;
    double  best_rate = -1;
    for (size_t i = 0; i < b.candidates.size() && b.candidates[i] <= limit; ++i) {
        const double rate = expected_rate(b, b.candidates[i]);
        if (rate > best_rate) {
            best_rate = rate;
            best      = (int32_t) i;
        }
    }
    // explore: every fourth round, the next larger budget while it might still beat the best by
    // its optimistic estimate: a budget that an unlucky start made look poor gets tried again, one
    // a few observations refuted is not tried every fourth round. Smaller budgets need no
    // exploring: each round measures them within its own tree
    const int32_t next = best + 1;
    if (b.rounds % 4 == 3 && next < (int32_t) b.candidates.size() && b.candidates[next] <= limit) {
        const int32_t k = b.candidates[next];
        if (optimistic_tokens(b, k) / sx_budget_expected_ms(b, k) > best_rate) {
            return k;
        }
    }
    return b.candidates[best];
}

bool sx_budget_catch_up_pays(const sx_budget & b, int32_t k, int32_t stale, int32_t remaining) {
    if (k <= 0 || stale <= 0) {
        return true;
    }
    // the catch-up runs in passes of the largest calibrated batch
    const int32_t top         = b.draft.batch.empty() ? 1 : b.draft.batch.back();
    const int32_t full        = stale / top;
    const double  catch_up_ms = full * b.draft.at(top) + (stale % top > 0 ? b.draft.at(stale % top) : 0.0);
    // a few tokens behind (the rounds just before went without the draft) cost next to nothing
    // beside the round: always worth it, or a budget would never be tried again once 0 led
    if (catch_up_ms <= 0.05 * sx_budget_expected_ms(b, k)) {
        return true;
    }
    // priced as optimistically as exploring: budget k may be chosen to learn what it yields, and a
    // draft left behind while budget 0 led would otherwise never be brought up to date to learn it
    const double ms_per_token_k = sx_budget_expected_ms(b, k) / optimistic_tokens(b, k);
    const double ms_per_token_0 = sx_budget_expected_ms(b, 0);
    return (ms_per_token_0 - ms_per_token_k) * remaining > catch_up_ms;
}

void sx_budget_observe(sx_budget &                  b,
                       int32_t                      k,
                       const std::vector<int32_t> & tokens_within,
                       double                       other_ms,
                       double                       target_ms,
                       int32_t                      tree_nodes) {
    b.rounds++;
    b.target.observe(tree_nodes + 1, target_ms);
    // running means that keep adapting (window of about 32 observations)
    const auto update = [](double & mean, int32_t & n, double x) {
        n++;
        mean += (x - mean) / std::min(n, 32);
    };
    const int32_t i = index_of(b, k);
    if (b.candidates[i] == k) {
        update(b.other_ms[i], b.rounds_at[i], other_ms);
    }
    for (size_t j = 1; j < tokens_within.size() && j < b.candidates.size(); ++j) {
        update(b.tokens_per_pass[j], b.seen[j], tokens_within[j]);
    }
}
