"""The CLV_* Excel functions: what each one computes, in one thin wrapper per function.

Each function only does the Excel part: it reads its arguments through
:mod:`clv_xl.excel` (coercion of cells, settings, parameter blocks), calls the
closed-form formulas (:mod:`clv_xl.formula`) or the predictive models
(:mod:`clv_xl.models`), and hands back cells (:mod:`clv_xl.excel.results`);
failures become short cell messages. The numpydoc ``Parameters`` section of each
docstring becomes the Function Wizard's help for that argument, the function
reference sheet and the README table (:mod:`clv_xl.excel.registry`).

Every argument takes a single cell or a range (passed as a 2-D list, so a
column stays a column); a range in spills a result of the same shape out.
Classic Excel (``UDF Modules = clv_xl.udfs``) and xlwings Lite
(``from clv_xl.udfs import *``) both load this module.
"""

from __future__ import annotations

import functools

import numpy as np

from . import formula
from .excel import arguments, fit_cache, results
from .excel.cells import (
    id_column,
    date_column,
    evaluate,
    from_grid,
    numeric_grid,
    summary_columns,
    to_serial,
)
from .excel.registry import declare_cellwise, excel_functions
from .models import bgnbd as bgnbd_model
from .models import clv as clv_model
from .models import diagnostics
from .models import gamma_gamma as gamma_gamma_model
from .models import rfm as rfm_model
from .models import sbg as sbg_model
from .models.clv import customer_lifetime_value_interval
from .models.sbg import discounted_expected_residual_lifetime_interval

#: Every CLV_* function by name, as registered (the template builder and the headless recalc read it).
FUNCTIONS: dict = {}
excel_function = excel_functions(FUNCTIONS)


# --- closed-form CLV -------------------------------------------------------------


@excel_function
def CLV_AVG(
    avg_purchase_value,
    purchases_per_period,
    lifespan_periods,
    margin=formula.DEFAULT_MARGIN,
    discount_rate=formula.DEFAULT_DISCOUNT_RATE,
    acquisition_cost=formula.DEFAULT_COST,
):
    """Customer lifetime value: average purchase x purchases per period x lifespan.

    One payment at the start of each period, the first undiscounted; the first
    purchase counts; a fractional last period counts pro rata (0.5 period is
    half a payment, never more when discounted). It discounts the average
    lifespan, so with lifespan CLV_LIFESPAN(churn) it is above CLV_CHURN, which
    averages the discounted lifespans, whenever the discount rate is above 0.
    =CLV_AVG(50, 6, 3, 30%, 10%) gives 246.20.

    Example: =CLV_AVG(50, 6, 3) gives 900.

    Parameters
    ----------
    avg_purchase_value
        Average order value in money, e.g. 50.
    purchases_per_period
        Purchases per period (year, quarter, month...), e.g. 6.
    lifespan_periods
        Customer lifespan in the same periods, e.g. 3.
    margin
        Optional gross margin as a fraction, e.g. 30% (default 100%: revenue CLV).
    discount_rate
        Optional discount rate per period (same period as the lifespan), >= 0 and < 100%, e.g. 10% (default 0).
    acquisition_cost
        Optional cost to win the customer, subtracted (default 0).
    """
    return evaluate(formula.clv_average, locals())


@excel_function
def CLV_CHURN(
    revenue_per_period, margin, churn_rate, discount_rate=formula.DEFAULT_DISCOUNT_RATE,
    acquisition_cost=formula.DEFAULT_COST,
):
    """Customer lifetime value from revenue, margin and churn: revenue x margin / churn.

    Payments at the start of each period while the customer stays; with a
    discount rate d the value is revenue x margin x (1 + d) / (d + churn): the
    average of the discounted lifespans, below CLV_AVG on the average lifespan
    1 / churn whenever d > 0.

    Example: =CLV_CHURN(100, 30%, 5%) gives 600.

    Parameters
    ----------
    revenue_per_period
        Revenue per customer per period, e.g. 100.
    margin
        Gross margin as a fraction, e.g. 30%.
    churn_rate
        Share of customers lost per period, e.g. 20% (> 0 and <= 100%).
    discount_rate
        Optional discount rate per period (same period as the churn rate), >= 0 and < 100%, e.g. 12% (default 0).
    acquisition_cost
        Optional cost to win the customer, subtracted (default 0).
    """
    return evaluate(formula.clv_churn, locals())


@excel_function
def CLV_NET(revenue, acquisition_cost, service_cost=formula.DEFAULT_COST):
    """Net customer value: revenue minus acquisition cost minus service cost.

    Example: =CLV_NET(1000, 200, 150) gives 650.

    Parameters
    ----------
    revenue
        Revenue from the customer over the period you look at.
    acquisition_cost
        Cost to win the customer.
    service_cost
        Optional cost to serve the customer over the same period (default 0).
    """
    return evaluate(formula.clv_net, locals())


# --- churn, retention, lifespan ------------------------------------------------


@excel_function
def CLV_CHURN_RATE(customers_start, customers_end, new_customers=formula.DEFAULT_NEW_CUSTOMERS):
    """Churn rate: share of the period's starting customers that you lost.

    (customers_start + new_customers - customers_end) / customers_start.

    Example: =CLV_CHURN_RATE(100, 90, 10) gives 0.2.

    Parameters
    ----------
    customers_start
        Customers at the start of the period.
    customers_end
        Customers at the end of the period.
    new_customers
        Optional customers won during the period (default 0).
    """
    return evaluate(formula.churn_rate, locals())


@excel_function
def CLV_RETENTION(churn_rate):
    """Retention rate: share of customers you keep each period (1 - churn).

    Example: =CLV_RETENTION(20%) gives 0.8.

    Parameters
    ----------
    churn_rate
        Share of customers lost per period, e.g. 20%.
    """
    return evaluate(formula.retention_rate, locals())


@excel_function
def CLV_LIFESPAN(churn_rate):
    """Average customer lifespan in periods: 1 / churn rate.

    Example: =CLV_LIFESPAN(20%) gives 5.

    Parameters
    ----------
    churn_rate
        Share of customers lost per period, e.g. 20% gives 5 periods.
    """
    return evaluate(formula.expected_lifespan, locals())


# --- acquisition economics ---------------------------------------------------


@excel_function
def CLV_CAC_RATIO(clv, acquisition_cost):
    """CLV:CAC ratio: how many times a customer pays back what it cost to win them.

    Example: =CLV_CAC_RATIO(900, 300) gives 3.

    Parameters
    ----------
    clv
        Customer lifetime value before acquisition cost.
    acquisition_cost
        Customer acquisition cost (CAC), > 0.
    """
    return evaluate(formula.cac_ratio, locals())


@excel_function
def CLV_PAYBACK(margin_per_period, acquisition_cost):
    """CAC payback: periods of margin needed to earn back the acquisition cost.

    acquisition cost / margin per period, undiscounted. Unlike the other
    functions (a payment at the start of each period) it counts margin as
    earned evenly through each period, as finance's CAC payback months do: 2.5
    is halfway through the third period; round up for whole periods.

    Example: =CLV_PAYBACK(120, 300) gives 2.5.

    Parameters
    ----------
    margin_per_period
        Gross margin the customer brings per period, in money, > 0.
    acquisition_cost
        Customer acquisition cost (CAC).
    """
    return evaluate(formula.cac_payback, locals())


# --- segmentation -----------------------------------------------------------


@excel_function
def CLV_SEGMENT(values, tiers=formula.DEFAULT_TIERS, labels=None):
    """Customer tiers: label each CLV High / Medium / Low (or your own tiers).

    Equal-size tiers by rank; equal values always share a tier and a lower
    value is never in a higher tier. A block of equal values larger than a
    tier's share (e.g. many customers at CLV 0) gets a tier of its own, so
    with at least as many different values as tiers every tier is used and
    the lowest value is in the lowest tier.

    Example: =CLV_SEGMENT(H2:H201) gives a column of High, Medium or Low.

    Parameters
    ----------
    values
        CLV per customer (a column); blank cells give blank labels.
    tiers
        Optional number of equal-size tiers, 2-10 (default 3), or a range of ascending thresholds.
    labels
        Optional tier names, highest first (default High, Medium, Low or Tier 1..n).
    """
    numbers = numeric_grid("values", values)
    labels = formula.segment(numbers.floats, arguments.tiers(tiers), arguments.labels(labels))
    return from_grid(labels, numbers.floats.size > 1, numbers.messages)


# --- predictive CLV from transactions (Fader & Hardie models) ---------------------------


@excel_function
def CLV_RFM(customer_ids, dates, amounts, as_of=None, period="W"):
    """Customer summary from an order list: repeat purchases, recency, age and average spend.

    Same-day orders count as one purchase; the first purchase is not a repeat
    and is left out of monetary. Months are 365.25/12 days.

    Example: =CLV_RFM(A2:A7000, B2:B7000, C2:C7000, "1997-09-30") gives a table with a header row.

    Parameters
    ----------
    customer_ids
        Customer of each order line (a column).
    dates
        Date of each order line (a column of dates).
    amounts
        Amount of each order line (a column).
    as_of
        Optional end of the observation period; later orders are ignored (default: last date).
    period
        Optional time unit of recency and T: "D" days, "W" weeks (default), "M" months, "Y" years.
    """
    ids = id_column("customer_ids", customer_ids)
    days = date_column("dates", dates)
    (spend,) = summary_columns(amounts=amounts)
    end = arguments.date("as_of", as_of)
    table = rfm_model.rfm_summary(ids, days, spend, as_of=end, time_unit=arguments.period(period))
    return results.customer_rows(table, results.RFM_HEADER)


@excel_function
def CLV_COHORT(customer_ids, dates, period="M"):
    """Cohort retention table: share of each month's new customers who buy again later.

    Rows: acquisition cohorts (first-purchase period, as a date); columns:
    periods since acquisition (0 = the first purchase, always 100%). Blank where
    a period has not been observed yet.

    Example: =CLV_COHORT(A2:A7000, B2:B7000) gives a table with a header row.

    Parameters
    ----------
    customer_ids
        Customer of each order line (a column).
    dates
        Date of each order line (a column of dates).
    period
        Optional calendar period: "M" months (default), "W" weeks, "D" days, "Y" years; at most 1,200 periods of data.
    """
    ids = id_column("customer_ids", customer_ids)
    days = date_column("dates", dates)
    table = rfm_model.cohort_table(ids, days, period=arguments.period(period, "M"))
    header = [["cohort", *map(float, table.columns)]]
    rows = [[to_serial(cohort), *("" if np.isnan(v) else float(v) for v in shares)]
            for cohort, shares in zip(table.index, table.to_numpy())]
    return header + rows


@excel_function
def CLV_FIT_BGNBD(frequency, recency, T):
    """Fit the BG/NBD purchase model to customer summaries: r, alpha, a, b.

    Fader, Hardie & Lee (2005), by maximum likelihood. Use the output of
    CLV_RFM; the time unit of alpha is the unit of recency and T.

    Example: =CLV_FIT_BGNBD(B2:B2358, C2:C2358, D2:D2358) gives r 0.243, alpha 4.414, a 0.793, b 2.426 on CDNOW.

    Parameters
    ----------
    frequency
        Repeat purchases per customer (column from CLV_RFM).
    recency
        Time of the last purchase since the first, per customer.
    T
        Time since the first purchase (customer age), per customer.
    """
    params = fit_cache.cached_fit(bgnbd_model.fit, frequency=frequency, recency=recency, T=T)
    return results.params_block(params, bgnbd_model.PARAM_NAMES)


@excel_function
def CLV_PALIVE(params, frequency, recency, T):
    """Probability that each customer is still active (BG/NBD), between 0 and 1.

    A customer with no repeat purchase yet has 1.

    Example: =CLV_PALIVE(H2:I6, B2:B100, C2:C100, D2:D100) gives a column of probabilities.

    Parameters
    ----------
    params
        BG/NBD parameters: the block CLV_FIT_BGNBD returns, or r, alpha, a, b.
    frequency
        Repeat purchases per customer.
    recency
        Time of the last purchase since the first.
    T
        Time since the first purchase.
    """
    model = arguments.bgnbd_params(params)
    return evaluate(functools.partial(bgnbd_model.p_alive, model),
                    {"frequency": frequency, "recency": recency, "T": T})


@excel_function
def CLV_PURCHASES(params, frequency, recency, T, horizon):
    """Expected purchases of each customer in the next `horizon` periods (BG/NBD).

    Time unit: that of recency and T. Repeat purchases only.

    Example: =CLV_PURCHASES(H2:I6, 2, 30.43, 38.86, 39) gives 1.226 with the CDNOW fit.

    Parameters
    ----------
    params
        BG/NBD parameters: the block CLV_FIT_BGNBD returns, or r, alpha, a, b.
    frequency
        Repeat purchases per customer.
    recency
        Time of the last purchase since the first.
    T
        Time since the first purchase.
    horizon
        Number of periods ahead, e.g. 52 weeks.
    """
    model = arguments.bgnbd_params(params)
    expected = functools.partial(bgnbd_model.expected_purchases, model)
    return evaluate(lambda frequency, recency, T, horizon: expected(frequency, recency, T, horizon),
                    {"frequency": frequency, "recency": recency, "T": T, "horizon": horizon})


@excel_function
def CLV_PURCHASES_NEW(params, horizon):
    """Expected repeat purchases of a brand-new customer in the first `horizon` periods (BG/NBD).

    Example: =CLV_PURCHASES_NEW(H2:I6, 52) gives the purchases a new customer makes in a year of weeks.

    Parameters
    ----------
    params
        BG/NBD parameters: the block CLV_FIT_BGNBD returns, or r, alpha, a, b.
    horizon
        Number of periods from the first purchase.
    """
    model = arguments.bgnbd_params(params)
    return evaluate(lambda horizon: bgnbd_model.expected_purchases_new(model, horizon), {"horizon": horizon})


@excel_function
def CLV_FIT_GG(frequency, monetary):
    """Fit the Gamma-Gamma spend model to repeat buyers: p, q, gamma.

    Fader & Hardie (2013); customers with no repeat purchase are left out.

    Example: =CLV_FIT_GG(B2:B2358, E2:E2358) gives p 6.25, q 3.74, gamma 15.44 on CDNOW.

    Parameters
    ----------
    frequency
        Repeat purchases per customer (column from CLV_RFM).
    monetary
        Average spend per repeat purchase, per customer.
    """
    params = fit_cache.cached_fit(gamma_gamma_model.fit, frequency=frequency, monetary=monetary)
    return results.params_block(params, gamma_gamma_model.PARAM_NAMES)


@excel_function
def CLV_SPEND(gg_params, frequency, monetary):
    """Expected average spend per purchase of each customer (Gamma-Gamma).

    Blends the customer's own average with the population's, weighted by how
    many repeat purchases back it up.

    Example: =CLV_SPEND(K2:L5, B2:B100, E2:E100) gives a column of expected spends.

    Parameters
    ----------
    gg_params
        Gamma-Gamma parameters: the block CLV_FIT_GG returns, or p, q, gamma.
    frequency
        Repeat purchases per customer.
    monetary
        Average spend per repeat purchase.
    """
    model = arguments.gamma_gamma_params(gg_params)
    return evaluate(functools.partial(gamma_gamma_model.expected_spend, model),
                    {"frequency": frequency, "monetary": monetary})


@excel_function
def CLV_PREDICT(
    bgnbd_params,
    gg_params,
    frequency,
    recency,
    T,
    monetary,
    horizon,
    margin=1.0,
    annual_discount_rate=0.0,
    period="W",
):
    """Predicted CLV of each customer: expected margin from future purchases over a horizon.

    Margin x expected spend x expected purchases in each period ahead, each
    period's purchases discounted from the end of that period at the annual
    rate converted to the data's period. Future repeat purchases only.

    Example: =CLV_PREDICT(H2:I6, K2:L5, B2:B100, C2:C100, D2:D100, E2:E100, 52, 30%, 10%) gives a column of CLVs.

    Parameters
    ----------
    bgnbd_params
        BG/NBD parameters: the block CLV_FIT_BGNBD returns, or r, alpha, a, b.
    gg_params
        Gamma-Gamma parameters: the block CLV_FIT_GG returns, or p, q, gamma.
    frequency
        Repeat purchases per customer.
    recency
        Time of the last purchase since the first.
    T
        Time since the first purchase.
    monetary
        Average spend per repeat purchase.
    horizon
        Whole periods ahead, at most 1,200, e.g. 52 weeks.
    margin
        Optional profit margin as a fraction, e.g. 30% (default 100%).
    annual_discount_rate
        Optional discount rate per YEAR, >= 0 and < 100%, e.g. 10% (default 0); converted to the period.
    period
        Optional time unit of recency, T and horizon: "D", "W" (default), "M" or "Y".
    """
    purchases, spend = arguments.bgnbd_params(bgnbd_params), arguments.gamma_gamma_params(gg_params)
    settings = _prediction_settings(horizon, margin, annual_discount_rate, period)
    value = functools.partial(clv_model.customer_lifetime_value, purchases, spend, **settings)
    value(frequency=0.0, recency=0.0, T=0.0, monetary=0.0)  # a bad setting: one message, not one per row
    return evaluate(value, {"frequency": frequency, "recency": recency, "T": T, "monetary": monetary})


def _prediction_settings(horizon, margin, annual_discount_rate, period) -> dict:
    """The single-cell settings CLV_PREDICT and CLV_PREDICT_INTERVAL share, as the CLV model takes them."""
    return {"horizon": arguments.single_number("horizon", horizon), "time_unit": arguments.period(period),
            "annual_discount_rate": arguments.single_number("annual_discount_rate", annual_discount_rate),
            "margin": arguments.single_number("margin", margin)}


@excel_function
def CLV_FIT_SBG(survivors):
    """Fit the subscription retention model (shifted-beta-geometric) to survivor counts.

    Fader & Hardie (2007). Survivors: customers still active in periods 0, 1,
    2, ... of one cohort (the first value is the cohort size).

    Example: =CLV_FIT_SBG(B2:B9) gives gamma 0.704, delta 1.182 for the paper's regular cohort.

    Parameters
    ----------
    survivors
        Customers still active at period 0, 1, 2, ... (a column; counts or percentages).
    """
    arguments.check_no_gap(survivors)
    params = fit_cache.cached_fit(sbg_model.fit, survivors=survivors)
    return results.params_block(params, sbg_model.PARAM_NAMES)


@excel_function
def CLV_SBG_SURVIVAL(params, periods):
    """Share of a subscription cohort still active after each number of periods (sBG).

    Period 0 is sign-up (100%).

    Example: =CLV_SBG_SURVIVAL(E2:F4, A2:A14) gives the projected survival curve.

    Parameters
    ----------
    params
        sBG parameters: the block CLV_FIT_SBG returns, or gamma, delta.
    periods
        Whole periods since sign-up, 0, 1, 2, ...
    """
    model = arguments.sbg_params(params)
    return evaluate(lambda periods: sbg_model.survival(model, periods), {"periods": periods})


@excel_function
def CLV_SBG_RETENTION(params, periods):
    """Retention rate in each period: share of last period's subscribers who renew (sBG).

    Rises over time, as the customers most likely to cancel leave first.

    Example: =CLV_SBG_RETENTION(E2:F4, A3:A14) gives the projected retention rates.

    Parameters
    ----------
    params
        sBG parameters: the block CLV_FIT_SBG returns, or gamma, delta.
    periods
        Whole periods since sign-up, 1, 2, 3, ...
    """
    model = arguments.sbg_params(params)
    return evaluate(lambda periods: sbg_model.retention(model, periods), {"periods": periods})


@excel_function
def CLV_DEL(params, discount_rate=0.0, value_per_period=1.0):
    """Expected value of a new subscriber, first payment included (DEL, sBG).

    Discounted expected lifetime (Fader & Hardie 2010): the payment at sign-up
    (undiscounted) plus one at the start of each later period while still
    subscribed. DEL = first payment + CLV_DERL(renewals 0) / (1 + rate).

    Example: =CLV_DEL(E2:F4, 10%, 100) gives the value of a subscriber at sign-up, first payment included.

    Parameters
    ----------
    params
        sBG parameters: the block CLV_FIT_SBG returns, or gamma, delta.
    discount_rate
        Optional discount rate per period (the period of the survivor data), >= 0 and < 100%, e.g. 10% (default 0).
    value_per_period
        Optional payment per period (default 1: the result is in periods).
    """
    model = arguments.sbg_params(params)
    return evaluate(
        lambda discount_rate, value_per_period:
        sbg_model.discounted_expected_lifetime(model, discount_rate) * value_per_period,
        {"discount_rate": discount_rate, "value_per_period": value_per_period},
    )


@excel_function
def CLV_DERL(params, renewals, discount_rate=0.0, value_per_period=1.0):
    """Expected future value of a subscriber who has renewed n times (DERL, sBG).

    Discounted expected residual lifetime (Fader & Hardie 2010): payments at
    the start of each future period while still subscribed, the next one
    (if they renew) undiscounted. It excludes the current period's payment,
    already made; CLV_DEL is the value at sign-up including the first payment.

    Example: =CLV_DERL(E2:F4, 0, 10%, 100) gives the future value of a subscriber in their first period, excluding that period's payment.

    Parameters
    ----------
    params
        sBG parameters: the block CLV_FIT_SBG returns, or gamma, delta.
    renewals
        Renewals made so far (0 for a customer in the first period).
    discount_rate
        Optional discount rate per period (the period of the survivor data), >= 0 and < 100%, e.g. 10% (default 0).
    value_per_period
        Optional payment per period (default 1: the result is in periods).
    """
    model = arguments.sbg_params(params)
    return evaluate(
        lambda renewals, discount_rate, value_per_period:
        sbg_model.discounted_expected_residual_lifetime(model, renewals, discount_rate) * value_per_period,
        {"renewals": renewals, "discount_rate": discount_rate, "value_per_period": value_per_period},
    )


# --- validation: holdout split, fit diagnostics, intervals ------------------------------


@excel_function
def CLV_HOLDOUT(customer_ids, dates, amounts, calibration_end, observation_end, period="W"):
    """Calibration summary and holdout purchases per customer, to test a model on data it has not seen.

    Same-day orders count as one purchase in both periods. Calibration: orders
    up to calibration_end, summarised as CLV_RFM does; customers whose first
    order is later are left out. Holdout: purchase days after calibration_end
    up to observation_end, their mean spend, and the holdout length (the
    conventions of lifetimes' calibration_and_holdout_data).

    Example: =CLV_HOLDOUT(A2:A7000, B2:B7000, C2:C7000, "1997-09-30", "1998-06-30") gives a table with a header row.

    Parameters
    ----------
    customer_ids
        Customer of each order line (a column).
    dates
        Date of each order line (a column of dates).
    amounts
        Amount of each order line (a column).
    calibration_end
        Last day of the calibration period (the models are fitted on it).
    observation_end
        Last day of the holdout period.
    period
        Optional time unit of recency, T and the holdout length: "D", "W" (default), "M" or "Y".
    """
    ids = id_column("customer_ids", customer_ids)
    days = date_column("dates", dates)
    (spend,) = summary_columns(amounts=amounts)
    ends = {"calibration_end": arguments.date("calibration_end", calibration_end, required=True),
            "observation_end": arguments.date("observation_end", observation_end, required=True)}
    table = rfm_model.calibration_and_holdout(ids, days, spend, **ends, time_unit=arguments.period(period))
    return results.customer_rows(table, results.HOLDOUT_HEADER)


@excel_function
def CLV_TRACKING(params, customer_ids, dates, end=None, period="W"):
    """Expected vs actual repeat purchases of all customers, per period and cumulative (BG/NBD).

    Fader, Hardie & Lee (2005), Figures 1-2: the model's repeat purchases of
    every customer from their first purchase on, against the purchase days
    actually seen, period by period from the first date. Plot the last two
    columns to see whether the fit follows the data into the holdout period.

    Example: =CLV_TRACKING(D4:L8, A2:A7000, B2:B7000, "1998-06-30") gives a table with a header row.

    Parameters
    ----------
    params
        BG/NBD parameters: the block CLV_FIT_BGNBD returns, or r, alpha, a, b.
    customer_ids
        Customer of each order line (a column).
    dates
        Date of each order line (a column of dates).
    end
        Optional last day tracked (default: the last date).
    period
        Optional period length, the time unit of the fit: "D", "W" (default), "M" or "Y"; at most 1,200 periods from the first date to the end.
    """
    model = arguments.bgnbd_params(params)
    ids = id_column("customer_ids", customer_ids)
    days = date_column("dates", dates)
    last = arguments.date("end", end)
    table = diagnostics.tracking(model, ids, days, end=last, time_unit=arguments.period(period))
    header = ["period", "period end", "actual", "expected", "cumulative actual", "cumulative expected"]
    return [header] + [[float(row.period), to_serial(row.period_end), *map(float, row[2:])]
                       for row in table.itertuples(index=False)]


@excel_function
def CLV_FREQ_FIT(params, frequency, T, max_count=7):
    """Customers with 0, 1, 2, ... repeat purchases: actual vs the BG/NBD model, with a chi-square test.

    Fader, Hardie & Lee note "Creating a Fit Histogram for the BG/NBD Model"
    (2007): expected counts from each customer's own age T. Below the table:
    chi-square, degrees of freedom and p-value (a p-value under 5% says the
    model misses the shape of the data).

    Example: =CLV_FREQ_FIT(D4:L8, B21:B2377, D21:D2377) gives a table with a header row.

    Parameters
    ----------
    params
        BG/NBD parameters: the block CLV_FIT_BGNBD returns, or r, alpha, a, b.
    frequency
        Repeat purchases per customer (calibration period).
    T
        Time since the first purchase, per customer (calibration period).
    max_count
        Optional first count pooled into the last bar, e.g. 7 gives 0..6 and 7+ (default 7).
    """
    model = arguments.bgnbd_params(params)
    x, age = summary_columns(frequency=frequency, T=T)
    table, chi_square, degrees_of_freedom, p_value = diagnostics.frequency_histogram(
        model, x, age, arguments.max_count(max_count))
    rows = [[results.bucket_label(row.repeat_purchases, len(table)), float(row.actual), float(row.expected)]
            for row in table.itertuples(index=False)]
    statistics = [["chi-square", chi_square, ""], ["degrees of freedom", float(degrees_of_freedom), ""],
                  ["p-value", "" if p_value is None else p_value, ""]]
    return [["repeat purchases", "actual", "expected"]] + rows + statistics


@excel_function
def CLV_CONDITIONAL(params, frequency, recency, T, holdout_purchases, holdout_length, max_count=7):
    """Mean holdout purchases by calibration repeat purchases: actual vs predicted (BG/NBD).

    Fader, Hardie & Lee (2005), Figure 4: customers grouped by their repeat
    purchases in the calibration period; in each group the mean purchases in
    the holdout period against the mean of the model's prediction. The last
    row is all customers.

    Example: =CLV_CONDITIONAL(D4:L8, B2:B2358, C2:C2358, D2:D2358, F2:F2358, H2:H2358) gives a table with a header row.

    Parameters
    ----------
    params
        BG/NBD parameters: the block CLV_FIT_BGNBD returns, or r, alpha, a, b.
    frequency
        Repeat purchases per customer (calibration).
    recency
        Time of the last purchase since the first (calibration).
    T
        Time since the first purchase (calibration).
    holdout_purchases
        Purchases per customer in the holdout period (frequency_holdout of CLV_HOLDOUT).
    holdout_length
        Length of the holdout period, one value or per customer (duration_holdout of CLV_HOLDOUT).
    max_count
        Optional first count pooled into the last group, e.g. 7 gives 0..6 and 7+ (default 7).
    """
    model = arguments.bgnbd_params(params)
    x, t_x, age, holdout, length = summary_columns(frequency=frequency, recency=recency, T=T,
                                                    holdout_purchases=holdout_purchases,
                                                    holdout_length=arguments.broadcast_column(holdout_length, frequency))
    table = diagnostics.conditional_expectations(model, x, t_x, age, holdout, length,
                                                 arguments.max_count(max_count))
    return results.conditional_rows(table, ["repeat purchases", "customers", "actual", "predicted"])


@excel_function
def CLV_CONDITIONAL_SPEND(gg_params, frequency, monetary, holdout_purchases, holdout_monetary, max_count=7):
    """Mean holdout spend per purchase by calibration repeat purchases: actual vs expected (Gamma-Gamma).

    Among customers who bought in the holdout period, grouped by their
    calibration repeat purchases: their mean spend per holdout purchase against
    the mean of the model's expected spend (Fader & Hardie 2013). The last row
    is all of them.

    Example: =CLV_CONDITIONAL_SPEND(K2:L5, B2:B2358, E2:E2358, F2:F2358, G2:G2358) gives a table with a header row.

    Parameters
    ----------
    gg_params
        Gamma-Gamma parameters: the block CLV_FIT_GG returns, or p, q, gamma.
    frequency
        Repeat purchases per customer (calibration).
    monetary
        Average spend per repeat purchase (calibration).
    holdout_purchases
        Purchases per customer in the holdout period (frequency_holdout of CLV_HOLDOUT).
    holdout_monetary
        Average spend per holdout purchase (monetary_holdout of CLV_HOLDOUT).
    max_count
        Optional first count pooled into the last group (default 7).
    """
    model = arguments.gamma_gamma_params(gg_params)
    x, spend, holdout, holdout_spend = summary_columns(frequency=frequency, monetary=monetary,
                                                        holdout_purchases=holdout_purchases,
                                                        holdout_monetary=holdout_monetary)
    table = diagnostics.spend_conditional_expectations(model, x, spend, holdout, holdout_spend,
                                                       arguments.max_count(max_count))
    return results.conditional_rows(table, ["repeat purchases", "customers", "actual spend", "expected spend"])


@excel_function
def CLV_PREDICT_INTERVAL(
    bgnbd_params,
    gg_params,
    frequency,
    recency,
    T,
    monetary,
    horizon,
    margin=1.0,
    annual_discount_rate=0.0,
    period="W",
    total=False,
):
    """Predicted CLV with a 95% interval for how well the models are estimated, per customer or in total.

    CLV_PREDICT's value, with the interval the fits' standard errors imply
    (delta method: the CLV's sensitivity to each parameter against the
    parameters' covariance; the two fits taken as independent). It says how
    sure the expected value is, not how much one customer will vary around it.

    Example: =CLV_PREDICT_INTERVAL(D4:L8, N4:U7, B2:B100, C2:C100, D2:D100, E2:E100, 52, 30%, 10%, "W", TRUE) gives the total CLV, low and high.

    Parameters
    ----------
    bgnbd_params
        The whole block CLV_FIT_BGNBD returns (with standard errors and correlations).
    gg_params
        The whole block CLV_FIT_GG returns.
    frequency
        Repeat purchases per customer.
    recency
        Time of the last purchase since the first.
    T
        Time since the first purchase.
    monetary
        Average spend per repeat purchase.
    horizon
        Whole periods ahead, at most 1,200, e.g. 52 weeks.
    margin
        Optional profit margin as a fraction, e.g. 30% (default 100%).
    annual_discount_rate
        Optional discount rate per YEAR, >= 0 and < 100%, e.g. 10% (default 0); converted to the period.
    period
        Optional time unit of recency, T and horizon: "D", "W" (default), "M" or "Y".
    total
        Optional TRUE for one row with the total of all customers (default FALSE: one row each).
    """
    purchases = arguments.fitted_params("bgnbd_params", bgnbd_params, bgnbd_model.BGNBDParams, bgnbd_model.PARAM_NAMES)
    spend = arguments.fitted_params("gg_params", gg_params, gamma_gamma_model.GammaGammaParams, gamma_gamma_model.PARAM_NAMES)
    columns = summary_columns(frequency=frequency, recency=recency, T=T, monetary=monetary)
    value, low, high = customer_lifetime_value_interval(
        purchases, spend, *columns, total=arguments.flag("total", total),
        **_prediction_settings(horizon, margin, annual_discount_rate, period))
    return results.interval_rows("CLV", value, low, high)


@excel_function
def CLV_DERL_INTERVAL(params, renewals, discount_rate=0.0, value_per_period=1.0):
    """Value of a subscriber who has renewed n times (DERL) with a 95% interval from the sBG fit.

    CLV_DERL's value, with the interval the fit's standard errors imply (delta
    method on gamma and delta and their covariance).

    Example: =CLV_DERL_INTERVAL(L5:R7, 0, 10%, 100) gives DERL, low and high.

    Parameters
    ----------
    params
        The whole block CLV_FIT_SBG returns (with standard errors and correlations).
    renewals
        Renewals made so far, one value or a column (0 for a customer in the first period).
    discount_rate
        Optional discount rate per period (the period of the survivor data), >= 0 and < 100%, e.g. 10% (default 0).
    value_per_period
        Optional payment per period (default 1: the result is in periods).
    """
    model = arguments.fitted_params("params", params, sbg_model.SBGParams, sbg_model.PARAM_NAMES)
    (counts,) = summary_columns(renewals=renewals)
    value, low, high = discounted_expected_residual_lifetime_interval(
        model, counts, arguments.single_number("discount_rate", discount_rate), arguments.single_number("value_per_period", value_per_period))
    return results.interval_rows("DERL", value, low, high)


#: The arguments in which each function computes cell by cell (:func:`clv_xl.cells.evaluate`; ``None``:
#: all of them): given ranges there, each result cell comes from the same cells of those ranges, the
#: other arguments being settings shared by every cell. ``clv-xl recalc`` evaluates a column of such
#: formulas filled down in one call (:mod:`clv_xl.recalc`); tests/test_recalc.py checks every entry.
CELLWISE_ARGUMENTS = {
    "CLV_AVG": None,
    "CLV_CHURN": None,
    "CLV_NET": None,
    "CLV_CHURN_RATE": None,
    "CLV_RETENTION": None,
    "CLV_LIFESPAN": None,
    "CLV_CAC_RATIO": None,
    "CLV_PAYBACK": None,
    "CLV_PALIVE": ("frequency", "recency", "T"),
    "CLV_PURCHASES": ("frequency", "recency", "T", "horizon"),
    "CLV_PURCHASES_NEW": ("horizon",),
    "CLV_SPEND": ("frequency", "monetary"),
    "CLV_PREDICT": ("frequency", "recency", "T", "monetary"),
    "CLV_SBG_SURVIVAL": ("periods",),
    "CLV_SBG_RETENTION": ("periods",),
    "CLV_DEL": ("discount_rate", "value_per_period"),
    "CLV_DERL": ("renewals", "discount_rate", "value_per_period"),
}


declare_cellwise(FUNCTIONS, CELLWISE_ARGUMENTS)

#: ``from clv_xl.udfs import *`` (an xlwings Lite main.py) imports exactly the CLV_* functions.
__all__ = list(FUNCTIONS)
