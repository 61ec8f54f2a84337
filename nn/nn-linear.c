/* SPDX-License-Identifier: MIT */
/* Placeholder until written. */
