// The automatic draft budget: choose the tree size K that maximises expected tokens per second,
//   E[tokens per pass](K) / (draft time(K) + target time(K + 1)),
// from forward-pass timings against batch size (calibrated at start-up, refined while generating)
// and the accepted-tokens-per-pass statistics observed for each budget. On a CPU one pass grows
// with its batch almost from the first token, so K stays small (or 0: no draft at all, when even a
// small tree does not pay); with an offloaded target on a GPU a pass costs about the same for 1 and
// for hundreds of tokens, and K grows accordingly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// Milliseconds of one forward pass against batch size: the calibration (piecewise linear,
// extrapolated linearly), scaled to what passes during generation are measured to cost.
struct sx_cost_curve {
    std::vector<int32_t> batch;
    std::vector<double>  ms;
    double               scale = 1;
    double               at(int32_t n) const;
    void                 observe(int32_t n, double ms);  // nudges the curve towards a measurement
};

struct sx_budget {
    sx_cost_curve        draft;
    sx_cost_curve        target;
    std::vector<int32_t> candidates;
    std::vector<double>  tokens_per_pass;  // running mean per candidate, also from larger budgets' trees
    std::vector<int32_t> seen;             // observations of tokens_per_pass
    std::vector<double>  other_ms;         // running mean per candidate of a round's time besides its target pass
    std::vector<int32_t> rounds_at;        // rounds run at each candidate
    int32_t              rounds    = 0;
    int32_t              max_depth = 32;
};

void    sx_budget_init(sx_budget & b, int32_t max_budget);
// Expected tokens per target pass at budget k: the observed mean, shrunk towards the curve
// 1 + a * log2(1 + k) (the shape of SpecExec's published curves) whose slope a is the mean of the
// slopes all observations imply, with a prior of 0.5; the curve alone stands in for budgets not yet
// observed.
double  sx_budget_expected_tokens(const sx_budget & b, int32_t k);
double  sx_budget_expected_ms(const sx_budget & b, int32_t k);
int32_t sx_budget_choose(sx_budget & b, int32_t limit);
// Whether budget k pays for first bringing a draft that is `stale` tokens behind up to date: the
// time it is expected to save over the `remaining` tokens against the draft's catch-up pass.
bool    sx_budget_catch_up_pays(const sx_budget & b, int32_t k, int32_t stale, int32_t remaining);
// One round at budget k: `tokens_within[i]` is what the round yielded within the best
// candidates[i] nodes of its tree (sx_tree_tokens_within), for the candidates up to k.
void    sx_budget_observe(sx_budget &                  b,
                          int32_t                      k,
                          const std::vector<int32_t> & tokens_within,
                          double                       other_ms,
                          double                       target_ms,
                          int32_t                      tree_nodes);
