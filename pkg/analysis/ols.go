package analysis

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// Column ids of the ADF design: the intercept, the lagged level x_{t-1} and,
// for j ≥ 1, the lagged difference Δx_{t-j} as id 1+j.
const (
	colConst = 0
	colLevel = 1
)

// dependentTol is the relative size below which a regressor's distance to
// the span of the earlier regressors (|R_jj| / ‖column j‖) counts as zero.
// Householder QR is column-wise backward stable, so an exact dependency
// shows up as |R_jj| of order m·ε‖column j‖ ≈ 1e-12 for m ≈ 10⁴; genuine
// regressors are many orders above.
const dependentTol = 1e-10

// adfDesign describes the ADF regression on rows t = first..n-1 of x with
// Δx lags 1..lags: the regressand is Δx_t = d[t-1].
type adfDesign struct {
	x, d      []float64
	lags      int
	first     int
	rows      int
	intercept bool
	// center is subtracted from x_{t-1} when there is an intercept.
	center float64
	search []int
}

// newADFDesign prepares the design with lags Δx lags on rows lags+1..n-1,
// the layout of statsmodels' lagmat(Δx, lags, trim="both") with its first
// column replaced by the level.
func newADFDesign(x, d []float64, lags int) *adfDesign {
	dz := &adfDesign{x: x, d: d, lags: lags, first: lags + 1, rows: len(x) - 1 - lags}
	dz.intercept = !dz.hasNonzeroConstantColumn()
	if dz.intercept {
		dz.center = x[dz.first-1]
	}
	dz.search = make([]int, 0, lags+2)
	if dz.intercept {
		dz.search = append(dz.search, colConst)
	}
	for id := colLevel; id <= 1+lags; id++ {
		dz.search = append(dz.search, id)
	}
	return dz
}

// hasNonzeroConstantColumn reports whether x_{t-1} or a Δx lag column is a
// non-zero constant on the design's rows: statsmodels' add_trend(...,
// has_constant="skip") then adds no intercept.
func (dz *adfDesign) hasNonzeroConstantColumn() bool {
	for id := colLevel; id <= 1+dz.lags; id++ {
		c := dz.raw(id, dz.first)
		if c == 0 {
			continue
		}
		constant := true
		for t := dz.first + 1; t < len(dz.x); t++ {
			if dz.raw(id, t) != c {
				constant = false
				break
			}
		}
		if constant {
			return true
		}
	}
	return false
}

// raw is the unshifted value of column id in row t.
func (dz *adfDesign) raw(id, t int) float64 {
	switch id {
	case colConst:
		return 1
	case colLevel:
		return dz.x[t-1]
	default:
		return dz.d[t-id]
	}
}

// value is the value of column id in row t as it enters the fit.
func (dz *adfDesign) value(id, t int) float64 {
	if id == colLevel {
		return dz.x[t-1] - dz.center
	}
	return dz.raw(id, t)
}

// searchColumns lists the lag-search columns in statsmodels' order:
// [const,] x_{t-1}, Δx_{t-1}, .., Δx_{t-lags}.
func (dz *adfDesign) searchColumns() []int { return dz.search }

// searchID is the id of the k-th (0-based) lag-search column.
func (dz *adfDesign) searchID(k int) int { return dz.search[k] }

// refitColumns orders the columns with x_{t-1} last:
// [const,] Δx_{t-1}, .., Δx_{t-lags}, x_{t-1}.
func (dz *adfDesign) refitColumns() []int {
	cols := make([]int, 0, dz.lags+2)
	if dz.intercept {
		cols = append(cols, colConst)
	}
	for id := 2; id <= 1+dz.lags; id++ {
		cols = append(cols, id)
	}
	return append(cols, colLevel)
}

// qrFit is a Householder QR factor (LAPACK layout: R in the upper triangle)
// of the design columns cols followed by the regressand.
type qrFit struct {
	a    blas64.General
	cols []int
}

// at returns element (i, j) of the factor's upper triangle R.
func (f *qrFit) at(i, j int) float64 { return f.a.Data[i*f.a.Stride+j] }

// qrWorkspace carries scratch buffers across factorisations.
type qrWorkspace struct {
	tau, work, norms []float64
}

// floats returns (*buf)[:n], growing it when needed.
func (ws *qrWorkspace) floats(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	return (*buf)[:n]
}

// matrix returns a zeroed rows×cols row-major matrix.
func (ws *qrWorkspace) matrix(rows, cols int) blas64.General {
	return blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: make([]float64, rows*cols)}
}

// gelqf factorises a = L·Q in place (gonum's LAPACK Dgelqf).
func (ws *qrWorkspace) gelqf(a blas64.General) {
	tau := ws.floats(&ws.tau, min(a.Rows, a.Cols))
	query := [1]float64{}
	lapack64.Gelqf(a, tau, query[:], -1)
	work := ws.floats(&ws.work, max(int(query[0]), a.Rows))
	lapack64.Gelqf(a, tau, work, len(work))
}

// geqrf factorises a in place (gonum's LAPACK Dgeqrf, blocked Householder).
func (ws *qrWorkspace) geqrf(a blas64.General, cols []int) *qrFit {
	tau := ws.floats(&ws.tau, min(a.Rows, a.Cols))
	query := [1]float64{}
	lapack64.Geqrf(a, tau, query[:], -1)
	work := ws.floats(&ws.work, max(int(query[0]), a.Cols))
	lapack64.Geqrf(a, tau, work, len(work))
	return &qrFit{a: a, cols: cols}
}

// factor builds the design with columns ids and the regressand, drops
// regressors that are (numerically) exact combinations of earlier ones, and
// returns the QR factor of what remains, or nil when no regressor is left.
// Dropping keeps the span of every column prefix, so each prefix model's
// residuals and rank are those of the full-column model that statsmodels
// fits with a pseudo-inverse.
//
// The factorisation runs over blocks of rows: each block is stacked under
// the triangular factor of the rows before it and the stack is factorised
// again (the "tall-skinny QR" update). The result is the R of the whole
// design, as an orthogonal transformation of it, but every step works on a
// block that stays in cache: on 8640 samples this is about 1.7 times faster
// than one pass over the whole matrix.
func (ws *qrWorkspace) factor(dz *adfDesign, ids []int) *qrFit {
	ids = slices.Clone(ids)
	// All-zero columns are common (lags of a piecewise-constant series) and
	// cheap to find before factorising.
	ids = slices.DeleteFunc(ids, func(id int) bool {
		for t := dz.first; t < len(dz.x); t++ {
			if dz.value(id, t) != 0 {
				return false
			}
		}
		return true
	})
	for len(ids) > 0 && len(ids) < dz.rows {
		f, norms := ws.blockedFactor(dz, ids)
		dep := -1
		for j := range ids {
			if math.Abs(f.at(j, j)) <= dependentTol*math.Sqrt(norms[j]) {
				dep = j
				break
			}
		}
		if dep < 0 {
			return f
		}
		ids = slices.Delete(ids, dep, dep+1)
	}
	return nil
}

// blockedFactor returns the p×p triangular factor (p = len(ids)+1, the
// regressand last) of the design and the squared column norms of the
// regressors.
//
// gonum's LAPACK is row-major, and Householder updates of a tall matrix
// with 40 columns then run as thousands of 40-element vector operations.
// The design is therefore stored transposed, one regressor per row, and
// factorised as Xᵀ = L·Q (Gelqf), which is the same Householder
// factorisation with X = Qᵀ·Lᵀ, R = Lᵀ, and whose updates run along rows
// thousands of elements long.
func (ws *qrWorkspace) blockedFactor(dz *adfDesign, ids []int) (*qrFit, []float64) {
	p := len(ids) + 1
	block := max(qrBlockRows, 4*p)
	stride := p + block
	data := make([]float64, p*stride)
	norms := make([]float64, len(ids))
	top := 0 // columns of the running triangular factor at the left of data
	for start := 0; start < dz.rows; start += block {
		b := min(block, dz.rows-start)
		for j, id := range ids {
			row := data[j*stride+top : j*stride+top+b]
			s := 0.0
			for i := range row {
				v := dz.value(id, dz.first+start+i)
				row[i] = v
				s += v * v
			}
			norms[j] += s
		}
		copy(data[(p-1)*stride+top:(p-1)*stride+top+b], dz.d[dz.first+start-1:])
		a := blas64.General{Rows: p, Cols: top + b, Stride: stride, Data: data}
		ws.gelqf(a)
		top = min(top+b, p)
		// Keep L only: clear the Householder vectors right of the diagonal.
		for j := 0; j+1 < top; j++ {
			clear(data[j*stride+j+1 : j*stride+top])
		}
	}
	r := make([]float64, p*p)
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			r[i*p+j] = data[j*stride+i]
		}
	}
	return &qrFit{a: blas64.General{Rows: p, Cols: p, Stride: p, Data: r}, cols: ids}, norms
}

// qrBlockRows is the row-block height of blockedFactor: 1024 rows of a
// 40-column design are 320 KB, inside a core's L2 cache; 512 to 2048
// measured the same.
const qrBlockRows = 1024
