package analysis

import (
	"math"

	"github.com/slapipe/slapipe/pkg/analysis/internal/series"
)

// Adfuller runs the Augmented Dickey-Fuller unit-root test with a constant and
// the lag length chosen by AIC on the gap-free series x, reproducing
// statsmodels 0.13.5 adfuller(x, regression="c", autolag="AIC"):
//
//   - maxlag = min(n/2 - 2, ceil(12·(n/100)^¼)) (Schwert 1989, via Greene);
//   - the regression Δx_t = α + γ·x_{t-1} + Σ_{j≤p} δ_j·Δx_{t-j} + ε_t is
//     fitted by OLS for p = 0..maxlag on the same maxlag+1.. sample, and the
//     p with the smallest AIC = -2·llf + 2·rank wins (ties to the smaller p);
//   - the chosen model is re-fitted on its own, longer sample and the
//     statistic is the t-ratio of γ;
//   - the p-value is MacKinnon's (1994) approximation and the critical values
//     MacKinnon's (2010) finite-sample surfaces for that sample size.
//
// Like statsmodels (tsatools.add_trend with has_constant="skip"), no
// intercept is added when a regressor column is a non-zero constant.
// Regressors that are exactly collinear with earlier ones (for example lag
// columns that are all zero in a piecewise-constant series) are left out, as
// the pseudo-inverse statsmodels uses effectively does; the rank counts only
// the columns kept.
//
// The OLS fits use Householder QR through gonum's LAPACK (Dgelqf on the
// transposed design, Dgeqrf for the update), never the normal equations.
// All lag-search models are column prefixes of one design matrix
// [1, x_{t-1}, Δx_{t-1} .. Δx_{t-maxlag}], so a single factorisation of that
// matrix with Δx_t appended gives every model's residual sum of squares; the
// re-fit only adds the extra leading rows to the already triangular factor.
// Because the model has an intercept, x_{t-1} is shifted by a constant before
// the fit; this leaves γ, its standard error and the residuals unchanged and
// keeps the fit accurate for series such as 1e12 + noise.
//
// Adfuller returns nil when the test is undefined: fewer than 4 samples
// (statsmodels raises), a constant series, or a degenerate regression (a
// perfect fit, or x_{t-1} collinear with the other regressors); x must be
// gap-free (FillGaps), a NaN also yields nil. Every number of a non-nil
// result is finite.
func Adfuller(x []float64) *ADF {
	n := len(x)
	if n < 4 || series.IsConstant(x) {
		return nil
	}
	// Two square roots are exact where numpy's x**0.25 is (n = 100·m⁴), so
	// the ceiling agrees with statsmodels at those boundaries.
	maxlag := min(n/2-2, int(math.Ceil(12*math.Sqrt(math.Sqrt(float64(n)/100)))))
	d := make([]float64, n-1)
	for i := range d {
		d[i] = x[i+1] - x[i]
	}
	var ws qrWorkspace
	search := newADFDesign(x, d, maxlag)
	fit := ws.factor(search, search.searchColumns())
	if fit == nil {
		return nil
	}
	lag, icBest, ok := selectLag(search, fit)
	if !ok {
		return nil
	}
	stat, nobs, ok := refit(&ws, search, fit, lag)
	if !ok {
		return nil
	}
	crit := mackinnonCrit(nobs)
	p := mackinnonP(stat)
	return &ADF{
		Statistic: stat,
		PValue:    p,
		UsedLag:   lag,
		NObs:      nobs,
		CriticalValues: map[string]float64{
			"1%":  crit[0],
			"5%":  crit[1],
			"10%": crit[2],
		},
		ICBest:     icBest,
		Stationary: p < 0.05,
	}
}

// forceDirectRefit makes refit skip the factor update, so that tests can
// check both paths against the references.
var forceDirectRefit = false

// selectLag computes the AIC of every lag-search model from the one
// factorisation and returns the lag with the smallest (statsmodels'
// _autolag: min over (aic, column count), so ties go to the shorter model).
func selectLag(dz *adfDesign, fit *qrFit) (lag int, icBest float64, ok bool) {
	p := len(fit.cols) // y is column p of the factor
	// rssFrom[r] = Σ_{i≥r} z_i², the residual sum of squares of the model made
	// of the first r kept columns (z = Qᵀy is the y column of R).
	rssFrom := make([]float64, p+1)
	acc := 0.0
	for i := p; i >= 0; i-- {
		z := fit.at(i, p)
		acc += z * z
		rssFrom[i] = acc
	}
	nobs := float64(dz.rows)
	nobs2 := nobs / 2
	start := 1 // columns of the smallest model: [const,] x_{t-1}
	if dz.intercept {
		start = 2
	}
	icBest = math.Inf(1)
	lag = -1
	kept := 0 // kept columns among the first k original ones
	for k := 1; k <= start+dz.lags; k++ {
		if kept < p && fit.cols[kept] == dz.searchID(k-1) {
			kept++
		}
		if k < start {
			continue
		}
		ssr := rssFrom[kept]
		// statsmodels OLS: llf = -n/2·log(2π) - n/2·log(ssr/n) - n/2 and
		// aic = -2·llf + 2·(df_model + k_constant) = -2·llf + 2·rank.
		llf := -nobs2*math.Log(2*math.Pi) - nobs2*math.Log(ssr/nobs) - nobs2
		aic := -2*llf + 2*float64(kept)
		if aic < icBest {
			icBest, lag = aic, k-start
		}
	}
	if lag < 0 || math.IsInf(icBest, 0) {
		return 0, 0, false
	}
	return lag, icBest, true
}

// refit fits the chosen lag on its own sample (rows lag+1..n-1) and returns
// the t-ratio of x_{t-1} and the number of observations.
func refit(ws *qrWorkspace, search *adfDesign, fit *qrFit, lag int) (stat float64, nobs int, ok bool) {
	dz := newADFDesign(search.x, search.d, lag)
	if !forceDirectRefit && dz.intercept == search.intercept && len(fit.cols) == len(search.searchColumns()) {
		// No column was dropped and the intercept rule agrees: the re-fit
		// sample is the search sample plus maxlag-lag leading rows, so the
		// triangular factor of the search can be updated instead of
		// factorising the longer matrix again.
		dz.center = search.center
		if stat, ok := updateRefit(ws, search, fit, dz); ok {
			return stat, dz.rows, true
		}
	}
	cols := dz.refitColumns()
	f := ws.factor(dz, cols)
	if f == nil || f.cols[len(f.cols)-1] != colLevel {
		return 0, 0, false
	}
	stat, ok = levelTRatio(f, dz.rows)
	return stat, dz.rows, ok
}

// updateRefit computes the re-fit from the search factor R (columns
// [const, x_{t-1}, Δx lags 1..lag] and y, rows maxlag+1..) and the rows
// lag+1..maxlag that the re-fit adds: the QR factor of [R; new rows] is the
// QR factor of the whole re-fit design. Columns are permuted so that x_{t-1}
// comes last, which makes its t-ratio a by-product of the factorisation.
// ok is false when the updated factor shows a dependent column; the caller
// then falls back to a fresh factorisation that handles it.
func updateRefit(ws *qrWorkspace, search *adfDesign, fit *qrFit, dz *adfDesign) (float64, bool) {
	order := dz.refitColumns() // re-fit column order, ids
	r := len(order)
	// Position of each id in the search factor.
	pos := func(id int) int {
		if id == colConst {
			return 0
		}
		if search.intercept {
			return id
		}
		return id - 1
	}
	extra := search.first - dz.first
	a := ws.matrix(r+1+extra, r+1)
	// Rows 0..r-1: the search R restricted to the re-fit's columns (the
	// first r search columns, so the block is still upper triangular before
	// the permutation); row r carries the residual norm of y.
	for i := 0; i < r; i++ {
		row := a.Data[i*a.Stride : i*a.Stride+r+1]
		for j, id := range order {
			if pj := pos(id); pj >= i {
				row[j] = fit.at(i, pj)
			}
		}
		row[r] = fit.at(i, len(fit.cols))
	}
	rss := 0.0
	for i := r; i <= len(fit.cols); i++ {
		z := fit.at(i, len(fit.cols))
		rss += z * z
	}
	a.Data[r*a.Stride+r] = math.Sqrt(rss)
	for e := 0; e < extra; e++ {
		t := dz.first + e
		row := a.Data[(r+1+e)*a.Stride : (r+1+e)*a.Stride+r+1]
		for j, id := range order {
			row[j] = dz.value(id, t)
		}
		row[r] = dz.d[t-1]
	}
	// Column norms of the full re-fit design, for the dependency test.
	norms := ws.floats(&ws.norms, r)
	for j, id := range order {
		s := 0.0
		pj := pos(id)
		for i := 0; i <= pj; i++ {
			v := fit.at(i, pj)
			s += v * v
		}
		for e := 0; e < extra; e++ {
			v := dz.value(id, dz.first+e)
			s += v * v
		}
		norms[j] = math.Sqrt(s)
	}
	f := ws.geqrf(a, order)
	for j := range order {
		if math.Abs(f.at(j, j)) <= dependentTol*norms[j] {
			return 0, false
		}
	}
	return levelTRatio(f, dz.rows)
}

// levelTRatio returns the t-ratio of the last regressor (x_{t-1}) of a
// factor whose y column follows it: with R's last regressor column l, the
// OLS coefficient is z_l/R_ll and its standard error s/|R_ll|, so
// t = sign(R_ll)·z_l/s with s² = RSS/(nobs - rank) (statsmodels' scale).
func levelTRatio(f *qrFit, nobs int) (float64, bool) {
	r := len(f.cols)
	df := nobs - r
	if df <= 0 {
		return 0, false
	}
	rss := f.at(r, r) * f.at(r, r)
	s := math.Sqrt(rss / float64(df))
	rll, zl := f.at(r-1, r-1), f.at(r-1, r)
	t := zl / s
	if rll < 0 {
		t = -t
	}
	if math.IsNaN(t) || math.IsInf(t, 0) {
		return 0, false
	}
	return t, true
}
