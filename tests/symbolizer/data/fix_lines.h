/* SPDX-License-Identifier: MIT */
/*
 * Line numbers of the marker lines in the symbolizer fixtures, shared with the test. Each
 * fixture checks its marker with a static assertion, so moving a line breaks the build
 * instead of silently testing the wrong thing.
 */
#ifndef FIX_LINES_H
#define FIX_LINES_H

#define FIX_INLINE_LINE_CAPTURE 23 /* fix_inline.c: fix_capture() inside inner_step() */
#define FIX_INLINE_LINE_CALL 31    /* fix_inline.c: inner_step() called from outer_fn() */
#define FIX_CXX_LINE_FROB 22       /* fix_cxx.cpp: fix_capture() in ns::Widget::frob */
#define FIX_CXX_LINE_TWICE 29      /* fix_cxx.cpp: fix_capture() in ns::twice<int> */
#define FIX_NOPIE_LINE_CAPTURE 18  /* fix_nopie.c: fix_capture() in nopie_work() */

#endif
