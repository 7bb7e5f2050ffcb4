"""Olist marketplace orders → orders, review surveys and complaint cases (docs/data.md,
"Olist").

- An order: placed at its purchase time with its item lines and the sum of its payments,
  promised for its estimated delivery date; shipped when handed to the carrier; delivered
  (the R-ORD-04 clock judges it against the estimate); cancelled when its status is
  ``canceled`` or ``unavailable``.
- A review: a survey (the one score as every 1-5 score, the title and message as the
  comment), sent at its creation date and answered at its answer time. The catalog ties a
  survey to a resolved case, so each review comes with a synthetic service case resolved
  when the survey is sent.
- A complaint case, opened when the customer answered, for a low score (1-2) the review
  text or the order's status (cancelled, unavailable, delivered late) explains, and for a
  late delivery whose review text speaks of the delay.

Times are Brazilian local times (``America/Sao_Paulo``). The customer is the person
(``customer_unique_id``); Olist's ``customer_id`` is one per order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import islice
from pathlib import Path
from typing import Any

from tools.importers.cases import CaseTrack
from tools.importers.files import column, find, rows
from tools.importers.steps import Journey, Step, text
from tools.importers.summary import ImportSummary
from tools.importers.times import BadTime, local_timestamp

DATASET = "olist-ecommerce"
DATASET_FOLDERS = (DATASET,)
ZONE = "America/Sao_Paulo"
CHANNEL = "marketplace"
CURRENCY = "BRL"

ORDERS = "olist_orders_dataset.csv"
ITEMS = "olist_order_items_dataset.csv"
PAYMENTS = "olist_order_payments_dataset.csv"
REVIEWS = "olist_order_reviews_dataset.csv"
CUSTOMERS = "olist_customers_dataset.csv"

CANCELLED = {
    "canceled": "canceled in Olist",
    "unavailable": "unavailable in Olist: the order could not be fulfilled",
}
"""Olist status → the cancellation reason."""

PLACEHOLDER_SKU = "olist-no-item-lines"
LOW_SCORE = 2
DELAY_WORDS = re.compile(
    r"atras|prazo|demor|n[aã]o (chegou|recebi|foi entregue)|ainda n[aã]o", re.IGNORECASE
)
"""Portuguese words of a review that speaks of a late or missing delivery."""
SURVEY_OPTION = "review_request"
SURVEY_OWNER = "olist"
SURVEY_DUE = timedelta(days=1)
SURVEY_ACCEPTANCE = "the customer answers the review survey"


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What a review needs to know of its order."""

    customer_id: str
    status: str
    late: bool
    store_id: str | None


@dataclass
class Lines:
    """An order's item lines, grouped by product; the seller of its first item."""

    products: dict[str, list[Any]]
    """product_id → [quantity, unit price]"""
    seller: str | None = None
    first_item: int = 1 << 30


def plan(folder: Path, limit: int | None, summary: ImportSummary) -> Iterator[Step]:
    paths = {
        name: find(folder, name, DATASET_FOLDERS)
        for name in (ORDERS, ITEMS, PAYMENTS, REVIEWS, CUSTOMERS)
    }
    summary.dataset = DATASET
    summary.files = [str(path) for path in paths.values()]
    summary.unit = "order"
    return _steps(paths, limit, summary)


def _money(value: str) -> Decimal | None:
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _steps(paths: dict[str, Path], limit: int | None, summary: ImportSummary) -> Iterator[Step]:
    wanted = set(column(paths[ORDERS], "order_id", limit)) if limit is not None else None
    persons: dict[str, str] = {}
    for row in rows(paths[CUSTOMERS], summary):
        persons[row["customer_id"]] = row["customer_unique_id"]
    lines: dict[str, Lines] = {}
    for row in rows(paths[ITEMS], summary):
        order_id = row["order_id"]
        if wanted is not None and order_id not in wanted:
            continue
        price = _money(row["price"])
        if price is None:
            summary.rows_skipped[f"{ITEMS}: unreadable price"] += 1
            continue
        entry = lines.setdefault(order_id, Lines({}))
        product = entry.products.setdefault(row["product_id"], [0, price])
        product[0] += 1
        item = int(row["order_item_id"] or 0)
        if item < entry.first_item:
            entry.first_item, entry.seller = item, row["seller_id"] or None
    paid: dict[str, Decimal] = {}
    for row in rows(paths[PAYMENTS], summary):
        order_id = row["order_id"]
        if wanted is not None and order_id not in wanted:
            continue
        value = _money(row["payment_value"])
        if value is None:
            summary.rows_skipped[f"{PAYMENTS}: unreadable payment_value"] += 1
            continue
        paid[order_id] = paid.get(order_id, Decimal(0)) + value
    facts: dict[str, OrderFacts] = {}
    for row in islice(rows(paths[ORDERS], summary), limit):
        journey = order(row, persons, lines.get(row["order_id"]), paid, summary, facts)
        if journey is not None:
            summary.units += 1
            yield from journey.steps
    for row in rows(paths[REVIEWS], summary):
        if row["order_id"] not in facts:
            continue  # an order outside the slice, or skipped (counted there)
        yield from review(row, facts[row["order_id"]], summary)


def _times(row: dict[str, str], *columns: str) -> list[datetime | None]:
    return [local_timestamp(row.get(c, ""), ZONE) for c in columns]


def order(
    row: dict[str, str],
    persons: dict[str, str],
    lines: Lines | None,
    paid: dict[str, Decimal],
    summary: ImportSummary,
    facts: dict[str, OrderFacts],
) -> Journey | None:
    order_id = row["order_id"]
    person = persons.get(row["customer_id"])
    if person is None:
        summary.rows_skipped[f"{ORDERS}: customer not in {CUSTOMERS}"] += 1
        return None
    try:
        purchase, approved, carrier, delivered, estimate = _times(
            row,
            "order_purchase_timestamp",
            "order_approved_at",
            "order_delivered_carrier_date",
            "order_delivered_customer_date",
            "order_estimated_delivery_date",
        )
    except BadTime as error:
        summary.rows_skipped[f"{ORDERS}: unreadable time ({error})"] += 1
        return None
    if purchase is None or estimate is None:
        summary.rows_skipped[f"{ORDERS}: no purchase time or no estimated delivery date"] += 1
        return None
    if estimate <= purchase:
        summary.rows_skipped[f"{ORDERS}: estimated delivery not after the purchase (R-ORD-04)"] += 1
        return None
    amount = paid.get(order_id, Decimal(0))
    if lines is None or not lines.products:
        # The catalog needs at least one line; the order and its payments are real.
        summary.steps_added["placeholder item line: an order without item lines"] += 1
        items = [{"sku": PLACEHOLDER_SKU, "quantity": 1, "unit_price": str(amount)}]
        seller = None
    else:
        items = [
            {"sku": product, "quantity": quantity, "unit_price": str(price)}
            for product, (quantity, price) in lines.products.items()
        ]
        seller = lines.seller
    store_id = f"olist-seller-{seller}" if seller else None
    customer_id = f"olist-{person}"
    ref = f"olist-{order_id}"
    journey = Journey(summary, f"olist:order:{order_id}", customer_id, CHANNEL)
    placed: dict[str, Any] = {
        "order_id": ref,
        "items": items,
        "amount_paid": str(amount),
        "currency": CURRENCY,
        "promised_delivery_at": estimate.isoformat(),
    }
    if store_id:
        placed["store_id"] = store_id
    status = row["order_status"].strip()
    # The source's status (eight values) as it is, beside the four our events make of it.
    journey.add("order.placed", "placed", purchase, placed, attributes={"order_status": status})
    if delivered is not None and carrier is None:
        summary.steps_added["shipment at the delivery: delivered with no carrier date"] += 1
        carrier = delivered
    if carrier is not None:
        journey.add("order.shipped", "shipped", carrier, {"order_id": ref})
    if delivered is not None:
        journey.add("order.delivered", "delivered", delivered, {"order_id": ref})
    reason = CANCELLED.get(status)
    if reason is not None:
        if delivered is not None:
            summary.steps_dropped[
                f"order.cancelled: status {status} after delivery (a delivered order is not"
                " cancelled)"
            ] += 1
        else:
            # The source has no cancellation time: the order's last known time.
            at = max(t for t in (purchase, approved, carrier) if t is not None)
            journey.add("order.cancelled", "cancelled", at, {"order_id": ref, "reason": reason})
    late = delivered is not None and delivered > estimate
    facts[order_id] = OrderFacts(customer_id, status, late, store_id)
    return journey


def is_complaint(score: int, comment: str | None, facts: OrderFacts) -> bool:
    """A low score the review text or the order's status explains, or a late delivery
    whose review speaks of the delay."""
    troubled = facts.status in CANCELLED or facts.late
    if score <= LOW_SCORE and (comment is not None or troubled):
        return True
    return facts.late and comment is not None and DELAY_WORDS.search(comment) is not None


def complaint_topic(comment: str | None, facts: OrderFacts) -> str:
    if facts.status in CANCELLED:
        return "order"
    if facts.late or (comment is not None and DELAY_WORDS.search(comment)):
        return "logistics"
    return "product"


def review(row: dict[str, str], facts: OrderFacts, summary: ImportSummary) -> list[Step]:
    review_id, order_id = row["review_id"], row["order_id"]
    try:
        score = int(row["review_score"])
    except ValueError:
        score = 0
    if not 1 <= score <= 5:
        summary.rows_skipped[f"{REVIEWS}: review_score not 1-5"] += 1
        return []
    try:
        created, answered = _times(row, "review_creation_date", "review_answer_timestamp")
    except BadTime as error:
        summary.rows_skipped[f"{REVIEWS}: unreadable time ({error})"] += 1
        return []
    if created is None:
        summary.rows_skipped[f"{REVIEWS}: no review_creation_date"] += 1
        return []
    comment = text(row.get("review_comment_title", ""), row.get("review_comment_message", ""))
    ref = f"olist-review-{review_id}-{order_id}"
    journey = Journey(summary, f"olist:review:{review_id}:{order_id}", facts.customer_id, CHANNEL)
    case = CaseTrack(journey, ref)
    case.open(created, classification="service", topic="order", store_id=facts.store_id)
    # A survey follows a resolved case (R-SAT-01), resolved by its owner (R-CMP-02) on an
    # offered option (R-CMP-01): the review request is that case.
    summary.steps_added["review case: owner, option and resolution before the survey"] += 1
    case.assign(created, "owner", SURVEY_OWNER, SURVEY_DUE, SURVEY_ACCEPTANCE)
    case.offer(created, "offered", [SURVEY_OPTION])
    case.resolve(
        created, "resolved", SURVEY_OPTION, f"Olist asked for a review of order {order_id}"
    )
    journey.add("survey.sent", "survey-sent", created, {"survey_id": ref, "case_id": ref})
    if answered is None:
        summary.steps_dropped["survey.answered: no review_answer_timestamp"] += 1
    else:
        answer: dict[str, Any] = {
            "survey_id": ref,
            "attitude": score,
            "efficiency": score,
            "solution": score,
            "overall": score,
        }
        if comment is not None:
            answer["comment"] = comment
        answered = journey.add("survey.answered", "survey-answered", answered, answer)
    steps = journey.steps
    if is_complaint(score, comment, facts):
        complaint = Journey(
            summary, f"olist:complaint:{review_id}:{order_id}", facts.customer_id, CHANNEL
        )
        demand = comment or f"review score {score}; order {facts.status}" + (
            ", delivered late" if facts.late else ""
        )
        CaseTrack(complaint, f"olist-complaint-{review_id}-{order_id}").open(
            answered or created,
            classification="complaint",
            topic=complaint_topic(comment, facts),
            demand=demand,
            store_id=facts.store_id,
        )
        steps = steps + complaint.steps
    return steps
