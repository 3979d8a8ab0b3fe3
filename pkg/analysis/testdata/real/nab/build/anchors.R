# Step 2: R forecast::ets automatic on every candidate history of one group; 95 % interval.
#   forecast(ets(ts(y)), h = H, level = 95)   (automatic ETS, no season)
# usage: Rscript anchors.R GROUP H   (reads candidates_GROUP.csv, writes ets_GROUP_out.txt)
# Output: one line per candidate: id;status;model;mean(H);lower(H);upper(H)
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
group <- args[1]
H <- as.integer(args[2])
lines <- readLines(sprintf("candidates_%s.csv", group))
out <- file(sprintf("ets_%s_out.txt", group), "w")
fmt <- function(v) paste(sprintf("%.17g", as.numeric(v)), collapse = ",")
for (ln in lines) {
  p <- strsplit(ln, ",", fixed = TRUE)[[1]]
  id <- p[1]
  y <- ts(as.numeric(p[-1]))
  res <- tryCatch({
    fit <- ets(y)
    fc <- forecast(fit, h = H, level = 95)
    m <- as.numeric(fc$mean); lo <- as.numeric(fc$lower[, 1]); up <- as.numeric(fc$upper[, 1])
    if (length(m) != H || any(!is.finite(c(m, lo, up)))) stop("non-finite forecast")
    paste(id, "ok", fit$method, fmt(m), fmt(lo), fmt(up), sep = ";")
  }, error = function(e) paste(id, "error", gsub("[;\n]", " ", conditionMessage(e)), "", "", "", sep = ";"))
  writeLines(res, out)
  flush(out)
}
close(out)
