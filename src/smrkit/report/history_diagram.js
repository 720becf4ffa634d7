// The history diagram of smrkit's check-history --html page (see history_diagram.py).
// It reads the JSON in #history-data and draws one partition at a time: a lane per
// process, a bar per op, the linearization (or longest linearizable prefix) in green with
// its order, the ops that cannot follow it in red. Only the bars in view are drawn, so a
// history of any size stays smooth. Text from the history is always escaped.
'use strict'
;(function () {
  const data = JSON.parse(document.getElementById('history-data').textContent)
  const $ = (id) => document.getElementById(id)
  const LANE = 22
  const BAR = 13
  const AXIS = 26
  const MIN_LABEL_PX = 46
  const ORDER_MAX = 400 // the order line and dots are drawn when at most this many steps are in view
  const FIRST_VIEW_OPS = 100 // a big partition opens on its first ops, not on all of them
  const FOCUS_EVENTS = 40 // calls and returns in view around an op shown from the table
  const esc = (text) =>
    String(text).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c])
  const fmt = (t) => String(Math.abs(t) >= 1e5 ? Math.round(t * 1e3) / 1e3 : Number(t.toPrecision(6)))

  let part = null // the partition shown
  let byId = new Map() // op id -> record
  let instants = [] // sorted distinct call/return times, for the event-order axis
  let view = {t0: 0, t1: 1} // in axis units (seconds, or event ranks)
  let mode = 'time'
  let selected = null
  let shownSteps = 0

  // --- axis --------------------------------------------------------------------------
  function lowerBound(sorted, t) {
    let lo = 0
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (sorted[mid] < t) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  function axisValue(t) {
    if (t === null) return axisEnd() // an info op runs on to the end
    return mode === 'time' ? t : lowerBound(instants, t) + 1
  }
  function axisEnd() {
    if (mode === 'time') return part.tMax + (part.tMax - part.tMin) * 0.04 + 1e-9
    return instants.length + 1
  }
  function axisStart() {
    return mode === 'time' ? part.tMin : 0
  }
  function width() {
    return Math.max(300, $('lanes').clientWidth - 2)
  }
  function x(value) {
    return ((value - view.t0) / (view.t1 - view.t0)) * width()
  }

  // --- choosing a partition ----------------------------------------------------------
  function choose(index) {
    part = data.partitions[index]
    byId = new Map(part.ops.map((op) => [op[0], op]))
    const times = new Set()
    for (const op of part.ops) {
      times.add(op[2])
      if (op[3] !== null) times.add(op[3])
    }
    instants = [...times].sort((a, b) => a - b)
    selected = null
    shownSteps = Math.min(part.steps.length, 200)
    $('go-stuck').disabled = part.stuck.length === 0
    fit()
    if (part.ops.length > FIRST_VIEW_OPS * 2) {
      const last = part.ops[FIRST_VIEW_OPS - 1]
      view = {t0: axisStart(), t1: axisValue(last[3] === null ? last[2] : last[3])}
      draw()
    }
    drawLabels()
    drawSteps()
    showDetails(null)
    $('part-summary').textContent = partitionSummary(part)
  }

  function partitionSummary(p) {
    const n = p.ops.length
    const verdict = {linearizable: 'linearizable', violation: 'NOT linearizable', unknown: 'undecided'}[p.verdict]
    let text = `${n} ops, ${p.lanes.length} processes: ${verdict}`
    if (p.verdict === 'linearizable') text += `; the ${p.steps.length} ops in green are numbered in linearization order`
    else if (p.steps.length) text += `; the longest linearizable prefix found has ${p.steps.length} ops (green, numbered)`
    if (p.stuck.length) text += `; in red, the ops none of which can take effect next`
    return text
  }

  // --- view --------------------------------------------------------------------------
  function fit() {
    view = {t0: axisStart(), t1: axisEnd()}
    if (view.t1 <= view.t0) view.t1 = view.t0 + 1
    draw()
  }
  function zoom(factor, around) {
    const center = around === undefined ? (view.t0 + view.t1) / 2 : around
    const span = Math.max((view.t1 - view.t0) * factor, 1e-9)
    const left = (center - view.t0) / (view.t1 - view.t0)
    view = {t0: center - span * left, t1: center + span * (1 - left)}
    draw()
  }
  function pan(fraction) {
    const shift = (view.t1 - view.t0) * fraction
    view = {t0: view.t0 + shift, t1: view.t1 + shift}
    draw()
  }
  function focusOp(id) {
    const op = byId.get(id)
    if (!op) return
    selected = id
    // About FOCUS_EVENTS calls and returns around the op, and all of the op, in view.
    const start = axisValue(op[2])
    const end = op[3] === null ? start : axisValue(op[3])
    let lo = lowerBound(instants, op[2])
    let hi = op[3] === null ? lo : lowerBound(instants, op[3])
    lo = Math.max(0, lo - FOCUS_EVENTS / 2)
    hi = Math.min(instants.length - 1, hi + FOCUS_EVENTS / 2)
    const t0 = Math.min(start, axisValue(instants[lo]))
    const t1 = Math.max(end, axisValue(instants[hi]))
    const margin = Math.max((t1 - t0) * 0.05, 1e-9)
    view = {t0: t0 - margin, t1: t1 + margin}
    draw()
    const lanes = $('lanes')
    const y = AXIS + op[1] * LANE
    if (y < lanes.scrollTop + AXIS || y > lanes.scrollTop + lanes.clientHeight - LANE) {
      lanes.scrollTop = Math.max(0, y - lanes.clientHeight / 2)
    }
    showDetails(id)
  }
  function focusStuck() {
    if (part.stuck.length) focusOp(part.stuck[part.stuck.length - 1][0])
  }

  // --- drawing -----------------------------------------------------------------------
  function drawLabels() {
    const rows = part.lanes.map((name, i) => `<div class="lane-name" style="top:${AXIS + i * LANE}px" title="${esc(name)}">${esc(name)}</div>`)
    $('lane-names').innerHTML = rows.join('')
    $('lane-names').style.height = `${AXIS + part.lanes.length * LANE + 8}px`
  }

  function draw() {
    const w = width()
    const h = AXIS + part.lanes.length * LANE + 8
    const out = []
    // axis
    const ticks = niceTicks(view.t0, view.t1, Math.max(2, Math.floor(w / 110)))
    for (const t of ticks) {
      const tx = x(t)
      out.push(`<line class="grid" x1="${tx}" y1="${AXIS - 6}" x2="${tx}" y2="${h}"/>`)
      out.push(`<text class="tick" x="${tx + 3}" y="${AXIS - 10}">${esc(tickLabel(t))}</text>`)
    }
    for (let i = 0; i < part.lanes.length; i += 2) {
      out.push(`<rect class="stripe" x="0" y="${AXIS + i * LANE}" width="${w}" height="${LANE}"/>`)
    }
    // bars in view
    let drawn = 0
    for (const op of part.ops) {
      const a = axisValue(op[2])
      const b = axisValue(op[3])
      if (b < view.t0 || a > view.t1) continue
      drawn++
      const x1 = Math.max(-5, x(a))
      const x2 = Math.min(w + 5, Math.max(x(b), x(a) + 2))
      const y = AXIS + op[1] * LANE + (LANE - BAR) / 2
      const cls = barClass(op)
      out.push(`<rect class="${cls}" data-op="${op[0]}" x="${x1}" y="${y}" width="${x2 - x1}" height="${BAR}" rx="2"/>`)
      if (x2 - x1 >= MIN_LABEL_PX) {
        const label = (op[6] >= 0 ? `${op[6] + 1}. ` : '') + op[5]
        const room = Math.floor((x2 - x1 - 6) / 6.2)
        const text = label.length > room ? label.slice(0, Math.max(0, room - 1)) + '…' : label
        out.push(`<text class="bar-label" data-op="${op[0]}" x="${x1 + 3}" y="${y + BAR - 3}">${esc(text)}</text>`)
      } else if (op[7] === 'stuck' || op[7] === 'blocking') {
        // A stuck op too narrow for its label gets it beside the bar.
        out.push(`<text class="bar-label stuck-label" data-op="${op[0]}" x="${x2 + 4}" y="${y + BAR - 3}">${esc(op[5])}</text>`)
      } else if (op[6] >= 0 && x2 - x1 >= 14) {
        out.push(`<text class="bar-label" data-op="${op[0]}" x="${x1 + 2}" y="${y + BAR - 3}">${op[6] + 1}.</text>`)
      }
    }
    // linearization points, joined in order (when few enough to read)
    let visibleSteps = 0
    for (const [, point] of part.steps) {
      const at = axisValue(point)
      if (at >= view.t0 && at <= view.t1) visibleSteps++
    }
    const steps = visibleSteps > ORDER_MAX ? [] : part.steps
    let previous = null
    for (const [id, point] of steps) {
      const op = byId.get(id)
      const px = x(axisValue(point))
      const py = AXIS + op[1] * LANE + LANE / 2
      const inView = px >= -20 && px <= w + 20
      if (previous && (inView || previous.inView)) {
        out.push(`<line class="order" x1="${previous.px}" y1="${previous.py}" x2="${px}" y2="${py}"/>`)
      }
      if (inView) out.push(`<circle class="point" cx="${px}" cy="${py}" r="3" data-op="${id}"/>`)
      previous = {px, py, inView}
    }
    const svg = $('diagram-svg')
    svg.setAttribute('width', w)
    svg.setAttribute('height', h)
    svg.innerHTML = out.join('')
    let note = `${drawn} of ${part.ops.length} ops in view · ${mode === 'time' ? data.timeUnit : 'event order'} ${tickLabel(view.t0)} – ${tickLabel(view.t1)}`
    if (steps.length === 0 && part.steps.length) note += ' · zoom in to see the linearization order'
    $('view-note').textContent = note
    drawOverview()
  }

  function barClass(op) {
    let cls = `bar s-${op[4]}`
    if (op[7]) cls += ` r-${op[7]}`
    else if (op[4] === 'ok') cls += ' r-open'
    if (op[0] === selected) cls += ' selected'
    return cls
  }

  function tickLabel(t) {
    if (mode === 'time') return fmt(t)
    const i = Math.round(t)
    if (i <= 0) return 'start'
    if (i > instants.length) return 'end'
    return `#${i} (${fmt(instants[i - 1])})`
  }

  function niceTicks(a, b, count) {
    if (mode !== 'time') {
      const step = Math.max(1, Math.ceil((b - a) / count))
      const first = Math.ceil(a / step) * step
      const ticks = []
      for (let t = first; t <= b; t += step) ticks.push(t)
      return ticks
    }
    const raw = (b - a) / count
    const mag = Math.pow(10, Math.floor(Math.log10(raw)))
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw
    const ticks = []
    for (let t = Math.ceil(a / step) * step; t <= b; t += step) ticks.push(t)
    return ticks
  }

  function drawOverview() {
    const svg = $('overview')
    const w = width()
    const h = 34
    const start = axisStart()
    const end = axisEnd()
    const ox = (v) => ((v - start) / (end - start)) * w
    const bins = new Array(Math.max(1, Math.floor(w / 3))).fill(0)
    const marks = []
    for (const op of part.ops) {
      const bin = Math.min(bins.length - 1, Math.max(0, Math.floor((ox(axisValue(op[2])) / w) * bins.length)))
      bins[bin]++
      if (op[7] === 'stuck' || op[7] === 'blocking') marks.push(ox(axisValue(op[2])))
    }
    const top = Math.max(...bins, 1)
    const out = bins.map((n, i) => (n ? `<rect class="density" x="${i * 3}" y="${h - 4 - (n / top) * (h - 8)}" width="2" height="${(n / top) * (h - 8)}"/>` : ''))
    if (part.steps.length) {
      const last = part.steps[part.steps.length - 1][1]
      out.unshift(`<rect class="done" x="0" y="0" width="${Math.max(1, ox(axisValue(last)))}" height="${h}"/>`)
    }
    for (const mx of marks) out.push(`<line class="stuck-mark" x1="${mx}" y1="0" x2="${mx}" y2="${h}"/>`)
    const vx = ox(view.t0)
    const vw = Math.max(3, ox(view.t1) - vx)
    out.push(`<rect class="viewport" x="${vx}" y="1" width="${vw}" height="${h - 2}"/>`)
    svg.setAttribute('width', w)
    svg.setAttribute('height', h)
    svg.innerHTML = out.join('')
  }

  // --- details and the table of steps -------------------------------------------------
  function showDetails(id) {
    const box = $('details')
    if (id === null) {
      box.innerHTML = '<p class="muted">Click a bar, a dot or a row of the table for the op and the model state after it.</p>'
      return
    }
    const op = byId.get(id)
    const rows = [
      ['op', `#${op[0]} on process ${part.lanes[op[1]]}: ${op[5]}`],
      ['outcome', {ok: 'ok (took effect)', info: 'info (unknown: may have taken effect, or not)', fail: 'fail (did not take effect)', left: 'left out (its output does not matter)'}[op[4]]],
      ['interval', `[${fmt(op[2])}, ${op[3] === null ? '∞' : fmt(op[3])}]`],
    ]
    if (op[6] >= 0) {
      const step = part.steps[op[6]]
      rows.push(['linearized', `step ${op[6] + 1} of ${part.steps.length}, at ${fmt(step[1])}`])
      rows.push(['state after', step[2]])
    }
    const stuck = part.stuck.find((row) => row[0] === id)
    if (stuck) {
      rows.push(['cannot go next', stuck[2] + (op[7] === 'blocking' ? ' — it returned first' : '')])
      rows.push(['state there', part.state])
    }
    box.innerHTML = '<table>' + rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('') + '</table>'
  }

  function drawSteps() {
    const body = []
    const total = part.steps.length
    const from = part.verdict === 'linearizable' ? 0 : Math.max(0, total - shownSteps)
    const to = part.verdict === 'linearizable' ? shownSteps : total
    if (from > 0) body.push(`<tr class="more"><td colspan="4"><button data-more="1">show ${Math.min(from, 500)} earlier steps (${from} not shown)</button></td></tr>`)
    for (let k = from; k < to; k++) {
      const [id, point, state] = part.steps[k]
      const op = byId.get(id)
      body.push(`<tr data-op="${id}"><td>${k + 1}</td><td><a href="#" data-op="${id}">#${id}</a> ${esc(part.lanes[op[1]])}: ${esc(op[5])}</td><td>${esc(fmt(point))}</td><td class="state">${esc(state)}</td></tr>`)
    }
    if (to < total) body.push(`<tr class="more"><td colspan="4"><button data-more="1">show ${Math.min(total - to, 500)} more steps (${total - to} not shown)</button></td></tr>`)
    for (const [id, modelOut, why] of part.stuck) {
      const op = byId.get(id)
      body.push(`<tr class="stuck-row" data-op="${id}"><td>✗</td><td><a href="#" data-op="${id}">#${id}</a> ${esc(part.lanes[op[1]])}: ${esc(op[5])}</td><td></td><td>${esc(why)}${op[7] === 'blocking' ? ' — returned first' : ''}</td></tr>`)
    }
    $('steps-body').innerHTML = body.join('') || '<tr><td colspan="4" class="muted">no op could be linearized</td></tr>'
    $('steps-title').textContent =
      part.verdict === 'linearizable' ? `The linearization: ${total} ops in order, each with the state after it` : `The longest linearizable prefix found (${total} ops), then the ops that cannot follow it`
  }

  // --- events ------------------------------------------------------------------------
  function opOf(target) {
    const holder = target.closest('[data-op]')
    return holder ? Number(holder.getAttribute('data-op')) : null
  }
  $('diagram-svg').addEventListener('click', (event) => {
    if (dragged) return
    const id = opOf(event.target)
    if (id !== null) {
      selected = id
      draw()
      showDetails(id)
    }
  })
  $('diagram-svg').addEventListener('mousemove', (event) => {
    const id = opOf(event.target)
    const tip = $('tooltip')
    if (id === null || drag) {
      tip.style.display = 'none'
      return
    }
    const op = byId.get(id)
    let text = `#${op[0]} ${part.lanes[op[1]]}: ${op[5]}  [${fmt(op[2])}, ${op[3] === null ? '∞' : fmt(op[3])}]  ${op[4]}`
    if (op[6] >= 0) text += `\nstep ${op[6] + 1}; state after: ${part.steps[op[6]][2]}`
    const stuck = part.stuck.find((row) => row[0] === id)
    if (stuck) text += `\ncannot go next: ${stuck[2]}`
    tip.textContent = text
    tip.style.display = 'block'
    tip.style.left = `${event.clientX + 14}px`
    tip.style.top = `${event.clientY + 14}px`
  })
  $('diagram-svg').addEventListener('mouseleave', () => ($('tooltip').style.display = 'none'))
  $('steps-body').addEventListener('click', (event) => {
    if (event.target.hasAttribute('data-more')) {
      shownSteps = Math.min(part.steps.length, shownSteps + 500)
      drawSteps()
      return
    }
    const id = opOf(event.target)
    if (id !== null) {
      event.preventDefault()
      focusOp(id)
      $('diagram').scrollIntoView({block: 'nearest'})
    }
  })
  let drag = null
  let dragged = false
  $('lanes').addEventListener('mousedown', (event) => {
    drag = {x: event.clientX, t0: view.t0, t1: view.t1}
    dragged = false
  })
  window.addEventListener('mousemove', (event) => {
    if (!drag) return
    const dx = event.clientX - drag.x
    if (Math.abs(dx) > 3) dragged = true
    const shift = (-dx / width()) * (drag.t1 - drag.t0)
    view = {t0: drag.t0 + shift, t1: drag.t1 + shift}
    draw()
  })
  window.addEventListener('mouseup', () => {
    drag = null
    setTimeout(() => (dragged = false), 0)
  })
  $('lanes').addEventListener(
    'wheel',
    (event) => {
      if (event.ctrlKey || event.metaKey) {
        event.preventDefault()
        const rect = $('diagram-svg').getBoundingClientRect()
        const at = view.t0 + ((event.clientX - rect.left) / width()) * (view.t1 - view.t0)
        zoom(event.deltaY > 0 ? 1.25 : 0.8, at)
      } else if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
        event.preventDefault()
        pan((event.deltaX || event.deltaY) / width())
      }
    },
    {passive: false},
  )
  $('lanes').addEventListener('scroll', () => ($('lane-names').style.transform = `translateY(${-$('lanes').scrollTop}px)`))
  $('overview').addEventListener('click', (event) => {
    const rect = $('overview').getBoundingClientRect()
    const at = axisStart() + ((event.clientX - rect.left) / width()) * (axisEnd() - axisStart())
    const span = view.t1 - view.t0
    view = {t0: at - span / 2, t1: at + span / 2}
    draw()
  })
  $('zoom-in').addEventListener('click', () => zoom(0.5))
  $('zoom-out').addEventListener('click', () => zoom(2))
  $('pan-left').addEventListener('click', () => pan(-0.4))
  $('pan-right').addEventListener('click', () => pan(0.4))
  $('fit').addEventListener('click', fit)
  $('go-stuck').addEventListener('click', focusStuck)
  $('axis-mode').addEventListener('change', (event) => {
    mode = event.target.value
    fit()
  })
  $('partition').addEventListener('change', (event) => choose(Number(event.target.value)))
  window.addEventListener('resize', () => draw())

  // --- start -------------------------------------------------------------------------
  // The address may choose what to show: #key=k1&axis=order&op=225 (op: an op id).
  const wanted = new URLSearchParams(location.hash.slice(1))
  const select = $('partition')
  data.partitions.forEach((p, i) => {
    const option = document.createElement('option')
    option.value = String(i)
    option.textContent = `${p.key === null ? '(the whole history)' : 'key ' + p.key} — ${p.verdict}, ${p.ops.length} ops`
    select.appendChild(option)
  })
  let first = data.partitions.findIndex((p) => p.verdict === 'violation')
  if (first < 0) first = data.partitions.findIndex((p) => p.verdict === 'unknown')
  if (first < 0) first = data.partitions.reduce((best, p, i, all) => (p.ops.length > all[best].ops.length ? i : best), 0)
  const named = data.partitions.findIndex((p) => String(p.key) === wanted.get('key'))
  if (named >= 0) first = named
  if (wanted.get('axis') === 'order') {
    mode = 'order'
    $('axis-mode').value = 'order'
  }
  select.value = String(first)
  choose(first)
  if (wanted.has('op')) focusOp(Number(wanted.get('op')))
  else if (data.partitions[first].stuck.length) focusStuck()
})()
