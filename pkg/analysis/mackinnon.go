package analysis

import "gonum.org/v1/gonum/stat/distuv"

// MacKinnon (1994) response-surface constants for the Dickey-Fuller tau
// statistic of a regression with a constant and one I(1) series (N = 1), as
// tabulated in statsmodels/tsa/adfvalues.py (tau_*_c[0], tau_c_smallp[0],
// tau_c_largep[0], with statsmodels' scaling already applied).
const (
	tauMaxC  = 2.74
	tauMinC  = -18.83
	tauStarC = -1.61
)

var (
	// tauCSmallP are the polynomial coefficients (constant first) used left
	// of tauStarC.
	tauCSmallP = [3]float64{2.1659, 1.4412, 3.8269e-2}
	// tauCLargeP are the coefficients used right of tauStarC.
	tauCLargeP = [4]float64{1.7339, 9.3202e-1, -1.2745e-1, -1.0368e-2}
	// tauC2010 are MacKinnon (2010) finite-sample critical-value surfaces
	// for the constant-only case, N = 1: rows 1 %, 5 %, 10 %; each row is
	// b0, b1, b2, b3 in crit = b0 + b1/T + b2/T² + b3/T³.
	tauC2010 = [3][4]float64{
		{-3.43035, -6.5393, -16.786, -79.433},
		{-2.86154, -2.8903, -4.234, -40.040},
		{-2.56677, -1.5384, -2.809, 0},
	}
)

// mackinnonP returns MacKinnon's (1994) approximate asymptotic p-value of a
// Dickey-Fuller tau statistic for a regression with a constant, as
// statsmodels' mackinnonp(stat, regression="c", N=1): 1 above the table's
// maximum, 0 below its minimum, else Φ of a polynomial in stat whose
// coefficients depend on which side of tau* the statistic falls.
func mackinnonP(stat float64) float64 {
	switch {
	case stat > tauMaxC:
		return 1
	case stat < tauMinC:
		return 0
	}
	var z float64
	if stat <= tauStarC {
		z = horner(tauCSmallP[:], stat)
	} else {
		z = horner(tauCLargeP[:], stat)
	}
	return distuv.UnitNormal.CDF(z)
}

// mackinnonCrit returns the 1 %, 5 % and 10 % critical values of the tau
// statistic for a regression with a constant and nobs observations, from
// MacKinnon (2010) "Critical Values for Cointegration Tests", Table 2, as
// statsmodels' mackinnoncrit(N=1, regression="c", nobs=nobs).
func mackinnonCrit(nobs int) [3]float64 {
	var out [3]float64
	inv := 1 / float64(nobs)
	for i, row := range tauC2010 {
		out[i] = horner(row[:], inv)
	}
	return out
}

// horner evaluates c[0] + c[1]x + c[2]x² + ... the way numpy.polyval does
// (Horner's scheme from the highest power).
func horner(c []float64, x float64) float64 {
	y := 0.0
	for i := len(c) - 1; i >= 0; i-- {
		y = y*x + c[i]
	}
	return y
}
