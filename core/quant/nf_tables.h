// NormalFloat code tables (METHODS §1.2).
//
// NF4 is listed exactly as bitsandbytes' get_4bit_type("nf4"). The k-bit tables are built
// from the normal quantile function:
//  - asymmetric (bitsandbytes create_normal_map, offset delta = 0.9677083): 2^(k-1) positive
//    levels Phi^-1 at the first of 2^(k-1)+1 fp32 linspace points from delta to 0.5, 2^(k-1)-1
//    negative levels from 2^(k-1) points, plus 0; sorted, divided by the max (all in fp32 as
//    bitsandbytes does). For k = 4 this reproduces the listed NF4 bit for bit (tested).
//  - symmetric (QLoRA paper): p = linspace(1-delta, delta, 2^k+1) (fp64), q_i = (Phi^-1(p_i) +
//    Phi^-1(p_{i+1})) / 2, divided by max|q|; no zero level.
// Code lookup is bitsandbytes' decision tree written as a bucketize: code = number of
// thresholds t_k < x (x on a threshold goes to the lower code, NaN to code 0), with t_k the fp64
// midpoint of adjacent levels written as its shortest decimal and read back as fp32 - the way
// bitsandbytes produced the constants of dQuantizeNF4, which this reproduces exactly.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/quant/quant_registry.h"

namespace rilq {

// NF-2/NF-3 codebooks: METHODS §7.7 leaves open which one IR-QLoRA meant.
enum class NfVariant {
    BnbAsymmetric,  // bitsandbytes create_normal_map construction: 2^(b-1) positive levels, exact 0 (default)
    QloraSymmetric, // QLoRA-paper construction: averages of adjacent quantiles, no 0 level
};
// Each construction with its name and doc, the default first (the variants of nf and icq-nf).
const VariantTable<NfVariant>& nf_variants();

// bitsandbytes' NF offset: the quantile level whose Phi^-1 maps to +-1.
constexpr double kNfOffset = 0.9677083;

// Phi^-1(p) for 0 < p < 1 in double precision (Acklam's rational start + one Halley step on erfc).
double normal_quantile(double p);

// The NF4 table of bitsandbytes, code 0..15.
const std::vector<float>& nf4_bnb_table();

// The k-bit table (k = 2, 3, 4) for a variant. NF4 asymmetric returns the listed bnb table.
std::vector<float> nf_table(int bits, NfVariant variant);
std::vector<float> nf_asymmetric_table(int bits); // the construction, also for k = 4
std::vector<float> nf_symmetric_table(int bits);

// 2^k - 1 decision thresholds between adjacent levels.
std::vector<float> nf_thresholds(const std::vector<float>& table);

// IR-QLoRA's sigma = 1 / Phi^-1(fp32(0.9677083)) = 0.541087: the std of a normal block whose
// absmax maps to +-1 (utils.py computes it from the fp32 linspace value, and so do we).
double icq_sigma();

} // namespace rilq
