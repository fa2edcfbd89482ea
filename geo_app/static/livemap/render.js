/* geo_app live map renderer: restyles a folium-built municipality layer from a small state.
 *
 * Used in two places with the same code: the standalone map.html (a classic <script>) and the
 * app's map component (imported by component.js). Geometry arrives once (a TopoJSON topology of
 * the municipalities, drawn by folium's TopoJson layer); every plan, level, metric or highlight
 * change is a `state` of a few kilobytes that this script applies to the layers already drawn:
 * fill colours per municipality, border lines per level (topojson.mesh of the shared arcs),
 * labels, legend and title. The map's view is never touched.
 *
 * User text (area, municipality and plan names) arrives as JSON and is only ever written with
 * textContent, never as HTML.
 *
 * Facility points (base.facilities: one layer per kind, names and delta-encoded coordinates) belong
 * to the base (the app adds a kind's points to it when first shown): they are drawn on one canvas of
 * their own, off until switched on (Leaflet's layer control in map.html, showFacilities() from the
 * app), so 25,000 points cost no DOM element each.
 * The canvas takes no mouse events (the municipalities under it keep theirs); the point under the
 * mouse is found here and named in a tooltip written with textContent.
 *
 * Hubs (在宅医療連携拠点) change with the plan, so they come in the state (state.hubs: name, areas,
 * lat, lon, how located): a star each (the print map's: blue, black edge, white halo), in a pane above
 * the fills, borders and facility points and under the labels, with a tooltip written with textContent.
 */
(function (root) {
  'use strict';
  var LEVELS = ['tertiary', 'secondary', 'homecare'];
  var SVGNS = 'http://www.w3.org/2000/svg';
  var HUB_SIZE = 24;  // px: a hub marker's box (the star's points reach 0.42 of it from the centre)

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  // One hatch pattern per fill colour: an unconfirmed area keeps its metric colour under the hatching.
  function hatchFill(colour) {
    var id = 'geoapp-hatch-' + colour.replace(/[^0-9a-zA-Z]/g, '');
    if (!document.getElementById(id)) {
      var svg = document.getElementById('geoapp-patterns');
      if (!svg) {
        svg = document.createElementNS(SVGNS, 'svg');
        svg.setAttribute('id', 'geoapp-patterns');
        svg.setAttribute('width', '0'); svg.setAttribute('height', '0');
        svg.style.position = 'absolute';
        document.body.appendChild(svg);
      }
      var pat = document.createElementNS(SVGNS, 'pattern');
      pat.setAttribute('id', id); pat.setAttribute('patternUnits', 'userSpaceOnUse');
      pat.setAttribute('width', '8'); pat.setAttribute('height', '8');
      pat.setAttribute('patternTransform', 'rotate(45)');
      var bg = document.createElementNS(SVGNS, 'rect');
      bg.setAttribute('width', '8'); bg.setAttribute('height', '8'); bg.setAttribute('fill', colour);
      var line = document.createElementNS(SVGNS, 'line');
      line.setAttribute('x1', '0'); line.setAttribute('y1', '0'); line.setAttribute('x2', '0'); line.setAttribute('y2', '8');
      line.setAttribute('stroke', '#333'); line.setAttribute('stroke-width', '2'); line.setAttribute('stroke-opacity', '0.6');
      pat.appendChild(bg); pat.appendChild(line); svg.appendChild(pat);
    }
    return 'url(#' + id + ')';
  }

  function tipBox(h, i) {
    var s = h.state, b = h.base, t = el('table');
    var rows = (b.tips[i] || []).map(function (v, k) { return [b.tipLabels[k], v]; });
    LEVELS.slice().reverse().forEach(function (lv) {
      var id = s ? s.ids[lv][i] : -1;
      rows.push([b.levelLabels[lv], id >= 0 ? s.names[lv][id] : '（未割当）']);
    });
    if (s) {
      rows.push([b.statusLabel, s.status[i] >= 0 ? s.statusNames[s.status[i]] : '']);
    }
    rows.forEach(function (r) {
      var tr = el('tr'); tr.appendChild(el('th', '', r[0])); tr.appendChild(el('td', '', r[1])); t.appendChild(tr);
    });
    var box = el('div'); box.appendChild(t); return box;
  }

  function styleOf(h, i, hover) {
    var s = h.state;
    var id = s ? s.ids[s.level][i] : -1;
    var colour = id >= 0 ? s.fill[id] : '#dddddd';
    var fill = id >= 0 && s.hatch[id] ? hatchFill(colour) : colour;
    var lit = h.highlight[i];
    return {
      fillColor: fill, fillOpacity: id >= 0 ? 0.75 : 0.35, stroke: !!(lit || hover),
      color: hover ? '#0050d4' : '#d40000', weight: hover ? 2.5 : 3, opacity: 1
    };
  }

  // `view` ({center, zoom}): where the user left this map; otherwise the data's first view. Set here
  // without animation (a fitBounds animating from folium's zoom_start would end after, and undo, a view set meanwhile).
  function attach(map, layer, topology, base, view, opts) {
    opts = opts || {};
    if (view) {
      map.setView(view.center, view.zoom, {animate: false});
    } else {
      map.fitBounds(base.bounds, {padding: [24, 24], animate: false});
    }
    var h = {
      map: map, layer: layer, topo: topology, base: base, state: null, paths: [], highlight: {},
      lines: {}, labels: L.layerGroup(), boxes: {}, onClick: null
    };
    layer.eachLayer(function (p) {
      var i = p.feature.id;
      h.paths[i] = p;
      p.bindTooltip(function () { return tipBox(h, i); }, {sticky: true, className: 'geoapp-tip'});
    });
    layer.on('mouseover', function (e) {
      e.layer.setStyle(styleOf(h, e.layer.feature.id, true)); e.layer._geoappStyle = null;
    });
    layer.on('mouseout', function (e) {
      e.layer.setStyle(styleOf(h, e.layer.feature.id, false)); e.layer._geoappStyle = null;
    });
    layer.on('click', function (e) {
      var i = e.layer.feature.id;
      h.highlight = {}; h.highlight[i] = true;  // at once, before the server answers
      restyle(h);
      if (h.onClick) { h.onClick(base.codes[i]); }
    });
    var overlays = {};
    overlays[base.layerNames.fill] = layer;
    base.borderLevels.forEach(function (lv) {
      var st = base.borders[lv];
      h.lines[lv] = L.geoJSON(null, {style: {color: st[0], weight: st[1], opacity: 0.9}, interactive: false}).addTo(map);
      overlays[base.layerNames[lv]] = h.lines[lv];
    });
    h.labels.addTo(map);
    overlays[base.layerNames.labels] = h.labels;
    h.hubs = hubLayer(h);
    h.facilities = facilities(h);
    if (opts.facilityControl !== false) {  // map.html: the kinds are switched in Leaflet's layer control
      h.facilities.layers.forEach(function (d) { overlays[d.name] = h.facilities.groups[d.kind]; });
    }
    h.control = L.control.layers(null, overlays, {collapsed: true}).addTo(map);
    h.declutter = function () { declutter(h); };
    map.on('zoomend moveend resize', h.declutter);
    map.getContainer().__geoapp = h;  // the handle, for the page's scripts and tests (map.html has no other)
    return h;
  }

  function restyle(h) {
    for (var i = 0; i < h.paths.length; i++) {
      var p = h.paths[i];
      if (!p) { continue; }
      var st = styleOf(h, i, false), key = JSON.stringify(st);
      if (key !== p._geoappStyle) { p.setStyle(st); p._geoappStyle = key; }
      if (h.highlight[i]) { p.bringToFront(); }
    }
  }

  // Border stretches: the coarsest level whose areas differ on the two sides; the edge of the planned
  // set is drawn as the coarsest level; two municipalities in the same areas at every level share a
  // plain municipal border.
  function borderClass(s, a, b) {
    var ia = a.id, ib = b.id, top = s.ids[LEVELS[0]];
    var inA = top[ia] >= 0, inB = a !== b && top[ib] >= 0;
    if (!inA && !inB) { return -1; }
    if (!(inA && inB)) { return 0; }
    for (var k = 0; k < LEVELS.length; k++) {
      if (s.ids[LEVELS[k]][ia] !== s.ids[LEVELS[k]][ib]) { return k; }
    }
    return LEVELS.length;
  }

  function drawBorders(h) {
    var s = h.state, obj = h.topo.objects[h.base.object];
    h.base.borderLevels.forEach(function (lv, k) {
      var g = h.lines[lv];
      g.clearLayers();
      g.addData(topojson.mesh(h.topo, obj, function (a, b) { return borderClass(s, a, b) === k; }));
    });
  }

  function drawLabels(h) {
    h.labels.clearLayers();
    h.state.labels.forEach(function (d) {
      var box = el('div', 'geoapp-label-box');
      box.appendChild(el('div', 'name', d.name));
      box.appendChild(el('div', 'pop', d.value));
      L.marker([d.lat, d.lon], {
        icon: L.divIcon({className: 'geoapp-label', html: box, iconSize: null}), interactive: false, keyboard: false
      }).addTo(h.labels);
    });
    declutter(h);
  }

  function overlaps(r, shown) {
    for (var j = 0; j < shown.length; j++) {
      var p = shown[j];
      if (!(r.right < p.left || r.left > p.right || r.bottom < p.top || r.top > p.bottom)) { return true; }
    }
    return false;
  }

  // Labels come in priority order (the areas just edited, then the most populous). Each is tried at
  // its point, then nudged above, below, left and right, then with its name only; one that fits
  // nowhere waits for a closer zoom. All sizes are read in one pass and all styles written in another
  // (one layout, however many labels).
  var NUDGES = [[0, 0], [0, -1], [0, 1], [-1, 0], [1, 0]];
  function shifted(r, dx, dy) {
    return {left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy};
  }
  function declutter(h) {
    var view = h.map.getBounds(), items = [], stars = hubRects(h);
    h.labels.getLayers().forEach(function (m) {
      var e = m.getElement(); if (!e) { return; }
      var box = e.firstChild;
      box.style.marginLeft = box.style.marginTop = '0px';
      box.querySelector('.pop').style.display = '';
      items.push({e: e, box: box, inView: view.contains(m.getLatLng())});
    });
    items.forEach(function (it) {  // read
      if (!it.inView) { return; }
      it.r = it.box.getBoundingClientRect();
      it.n = it.box.querySelector('.name').getBoundingClientRect();
    });
    var shown = [];
    items.forEach(function (it) {  // place
      it.place = null;
      if (!it.inView) { return; }
      var cx = (it.r.left + it.r.right) / 2, cy = (it.r.top + it.r.bottom) / 2;
      var w2 = (it.n.right - it.n.left) / 2, h2 = (it.n.bottom - it.n.top) / 2;
      var shapes = [[it.r, false], [{left: cx - w2, right: cx + w2, top: cy - h2, bottom: cy + h2}, true]];
      // first clear of the hub stars too (as on the print map): at its point or nudged, then, when only
      // a star was in the way, nudged past the star; a label that fits only over a star still shows
      // there (the star stays visible under its text): labels that meet no star are placed as before
      var tries = stars.length ? [[false, 2], [false, 2 + HUB_SIZE], [true, 2]] : [[true, 2]], byStar = false;
      for (var t = 0; t < tries.length && !it.place; t++) {
        var free = tries[t][0], gap = tries[t][1];
        if (t === 1 && !byStar) { continue; }
        for (var s = 0; s < shapes.length && !it.place; s++) {
          var r = shapes[s][0], wd = r.right - r.left, ht = r.bottom - r.top;
          for (var n = 0; n < NUDGES.length; n++) {
            var dx = NUDGES[n][0] * (wd / 2 + gap), dy = NUDGES[n][1] * (ht / 2 + gap), c = shifted(r, dx, dy);
            if (overlaps(c, shown)) { continue; }
            if (!free && overlaps(c, stars)) { byStar = true; continue; }
            it.place = [dx, dy, shapes[s][1]]; shown.push(c); break;
          }
        }
      }
    });
    items.forEach(function (it) {  // write
      var ok = !!it.place;
      it.e.style.visibility = ok ? 'visible' : 'hidden';
      it.e.classList.toggle('geoapp-label-hidden', !ok);
      if (ok) {
        it.box.style.marginLeft = it.place[0] + 'px';
        it.box.style.marginTop = it.place[1] + 'px';
        it.box.querySelector('.pop').style.display = it.place[2] ? 'none' : '';
      }
    });
  }

  function drawBoxes(h) {
    var seen = {};
    h.state.boxes.forEach(function (b) {
      seen[b.cls] = true;
      var ctl = h.boxes[b.cls];
      if (!ctl) {
        ctl = L.control({position: b.position});
        ctl.onAdd = function () {
          var div = el('div', 'geoapp-box ' + b.cls);
          L.DomEvent.disableClickPropagation(div);
          return div;
        };
        ctl.addTo(h.map);
        h.boxes[b.cls] = ctl;
      }
      var div = ctl.getContainer();
      div.replaceChildren();
      if (b.title) { div.appendChild(el('div', 'geoapp-title', b.title)); }
      (b.lines || []).forEach(function (t) { div.appendChild(el('div', '', t)); });
      (b.swatches || []).forEach(function (s) {
        var row = el('div');
        if (s.hub) {  // hidden with the hubs' layer (.geoapp-hubs-off)
          row.className = 'geoapp-hub-key';
          row.appendChild(starSvg(hubStyle(h), 16));
        } else {
          var i = el('i');
          i.style.background = s.hatch ? 'repeating-linear-gradient(45deg,#555 0 2px,#fff 2px 6px)' : s.colour;
          row.appendChild(i);
        }
        row.appendChild(document.createTextNode(s.text)); div.appendChild(row);
      });
      (b.notes || []).forEach(function (t) { div.appendChild(el('div', 'note', t)); });
    });
    Object.keys(h.boxes).forEach(function (cls) {
      if (!seen[cls]) { h.boxes[cls].remove(); delete h.boxes[cls]; }
    });
  }

  // Apply a state; parts that did not change (same JSON) are left as drawn.
  function apply(h, s) {
    var prev = h.state;
    h.state = s;
    h.highlight = {};
    (s.highlight || []).forEach(function (i) { h.highlight[i] = true; });
    restyle(h);
    var idsKey = JSON.stringify(s.ids);
    if (!prev || idsKey !== h.idsKey) { drawBorders(h); }
    h.idsKey = idsKey;
    var hubsKey = JSON.stringify(s.hubs || []), hubsChanged = !prev || hubsKey !== h.hubsKey;
    if (hubsChanged) { drawHubs(h); }  // before the labels: they keep clear of the stars
    h.hubsKey = hubsKey;
    var labelsKey = JSON.stringify(s.labels);
    if (!prev || labelsKey !== h.labelsKey) {
      drawLabels(h);
    } else if (hubsChanged) {
      declutter(h);
    }
    h.labelsKey = labelsKey;
    drawBoxes(h);
    h.map.getContainer().setAttribute('data-geoapp-state', String(s.serial));
    return h;
  }

  // ---- hubs (在宅医療連携拠点) --------------------------------------------------------------------
  function hubStyle(h) {  // the base's (views.livemap.HUB_STYLE); a base cached before hubs existed has none
    return h.base.hubStyle || {fill: '#1f4e9a', stroke: '#000000', halo: '#ffffff'};
  }

  function starPoints(c, R) {  // a five-pointed star centred at (c, c), pointing up
    var pts = [];
    for (var k = 0; k < 10; k++) {
      var a = -Math.PI / 2 + k * Math.PI / 5, rad = k % 2 ? R * 0.45 : R;
      pts.push((c + rad * Math.cos(a)).toFixed(2) + ',' + (c + rad * Math.sin(a)).toFixed(2));
    }
    return pts.join(' ');
  }

  // The star as SVG elements (no markup from strings): a white halo under a blue star with a black edge.
  function starSvg(style, size) {
    var svg = document.createElementNS(SVGNS, 'svg'), pts = starPoints(size / 2, size * 0.42);
    svg.setAttribute('width', size); svg.setAttribute('height', size);
    svg.setAttribute('viewBox', '0 0 ' + size + ' ' + size);
    [[style.halo, style.halo, Math.max(2, size / 6)], [style.fill, style.stroke, 1]].forEach(function (p) {
      var poly = document.createElementNS(SVGNS, 'polygon');
      poly.setAttribute('points', pts);
      poly.setAttribute('fill', p[0]); poly.setAttribute('stroke', p[1]);
      poly.setAttribute('stroke-width', p[2]); poly.setAttribute('stroke-linejoin', 'round');
      svg.appendChild(poly);
    });
    return svg;
  }

  function hubLayer(h) {
    var map = h.map, pane = map.getPane('geoappHubs') || map.createPane('geoappHubs');
    pane.style.zIndex = 460;  // above the areas, borders (400) and facility points (450), under the labels (600)
    var g = L.layerGroup();
    g.on('add', function () { map.getContainer().classList.remove('geoapp-hubs-off'); });
    g.on('remove', function () { map.getContainer().classList.add('geoapp-hubs-off'); });
    g.addTo(map);
    return {group: g, markers: [], inControl: false};
  }

  function hubTip(h, d) {
    var box = el('div'), how;
    if (d.by === 'facility') {  // the facility's name once when the hub is named after it (the app's default)
      var named = d.facility && d.facility !== d.name;
      how = '施設: ' + (named ? d.facility + (d.kind ? '（' + d.kind + '）' : '') : (d.kind || ''));
    } else {
      how = '地点: 北緯' + d.lat.toFixed(5) + '・東経' + d.lon.toFixed(5);
    }
    box.appendChild(el('div', 'name', d.name));
    box.appendChild(el('div', 'kind', h.base.layerNames.hubs || '在宅医療連携拠点'));
    box.appendChild(el('div', 'area', h.base.levelLabels.homecare + ': ' + d.areas.join('・')));
    box.appendChild(el('div', 'how', how));
    return box;
  }

  function drawHubs(h) {
    var hb = h.hubs, list = h.state.hubs || [], style = hubStyle(h);
    hb.group.clearLayers();
    hb.markers = list.map(function (d) {
      var icon = L.divIcon({
        className: 'geoapp-hub', html: starSvg(style, HUB_SIZE),
        iconSize: [HUB_SIZE, HUB_SIZE], iconAnchor: [HUB_SIZE / 2, HUB_SIZE / 2]
      });
      var m = L.marker([d.lat, d.lon], {icon: icon, pane: 'geoappHubs', keyboard: false});
      m.bindTooltip(function () { return hubTip(h, d); },
        {direction: 'top', offset: [0, -HUB_SIZE / 2], className: 'geoapp-hub-tip', opacity: 0.95});
      m.geoappHub = d;
      return m.addTo(hb.group);
    });
    // the layer control lists the hubs only while the plan has some to draw
    var name = h.base.layerNames.hubs || '在宅医療連携拠点';
    if (list.length && !hb.inControl) { h.control.addOverlay(hb.group, name); hb.inControl = true; }
    if (!list.length && hb.inControl) { h.control.removeLayer(hb.group); hb.inControl = false; }
    h.map.getContainer().setAttribute('data-geoapp-hubs', String(list.length));
  }

  function hubRects(h) {  // the stars shown, as screen boxes (the labels' obstacles)
    var hb = h.hubs;
    if (!hb || !h.map.hasLayer(hb.group)) { return []; }
    var out = [];
    hb.markers.forEach(function (m) {
      var e = m.getElement();
      if (!e) { return; }
      var r = e.getBoundingClientRect(), k = HUB_SIZE * 0.08;  // the star's points, not its box's corners
      out.push({left: r.left + k, right: r.right - k, top: r.top + k, bottom: r.bottom - k});
    });
    return out;
  }

  // ---- facility points ------------------------------------------------------------------------
  var SQRT3 = Math.sqrt(3);

  function shapePath(ctx, shape, x, y, r) {
    ctx.beginPath();
    if (shape === 'square') {
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
    } else if (shape === 'triangle') {  // pointing up, centred on the point
      ctx.moveTo(x, y - r); ctx.lineTo(x + r * SQRT3 / 2, y + r / 2); ctx.lineTo(x - r * SQRT3 / 2, y + r / 2);
      ctx.closePath();
    } else {
      ctx.arc(x, y, r, 0, 2 * Math.PI);
    }
  }

  function swatch(d) {  // the layer's marker for the legend, as an SVG element (no markup from strings)
    var size = 14, c = size / 2, r = d.radius, svg = document.createElementNS(SVGNS, 'svg'), node;
    svg.setAttribute('width', size); svg.setAttribute('height', size);
    if (d.shape === 'square') {
      node = document.createElementNS(SVGNS, 'rect');
      node.setAttribute('x', c - r); node.setAttribute('y', c - r);
      node.setAttribute('width', 2 * r); node.setAttribute('height', 2 * r);
    } else if (d.shape === 'triangle') {
      node = document.createElementNS(SVGNS, 'polygon');
      node.setAttribute('points', [[c, c - r], [c + r * SQRT3 / 2, c + r / 2], [c - r * SQRT3 / 2, c + r / 2]].join(' '));
    } else {
      node = document.createElementNS(SVGNS, 'circle');
      node.setAttribute('cx', c); node.setAttribute('cy', c); node.setAttribute('r', r);
    }
    node.setAttribute('fill', d.fill);
    node.setAttribute('stroke', d.stroke === '#ffffff' ? '#555' : d.stroke);  // a white edge would vanish on the box
    node.setAttribute('stroke-width', Math.min(d.weight, 1.5));
    svg.appendChild(node);
    return svg;
  }

  // The facility layers of a map: empty Leaflet layers that stand for each kind (in a layer control or
  // switched by showFacilities), one canvas that draws every kind switched on, a tooltip, a legend box.
  function facilities(h) {
    var map = h.map, base = h.base, layers = base.facilities || [], q = base.facilityQuantum || 1e-5;
    // drawn/radii: per kind, the points drawn in the view and their radius now (px), for tests and tools
    var f = {layers: layers, groups: {}, on: {}, drawn: {}, radii: {}, points: {}, proj: {}, hits: [], tip: null, box: null};
    if (!layers.length) { return f; }
    var pane = map.getPane('geoappFacilities') || map.createPane('geoappFacilities');
    pane.style.zIndex = 450;  // above the areas and borders (400), below labels and tooltips
    pane.style.pointerEvents = 'none';
    var canvas = el('canvas', 'geoapp-facility-canvas');
    canvas.style.position = 'absolute';
    canvas.style.pointerEvents = 'none';
    pane.appendChild(canvas);
    f.canvas = canvas;

    function decoded(d) {  // delta-encoded integers → degrees, once per layer
      if (!f.points[d.kind]) {
        var n = d.lat.length, lat = new Float64Array(n), lon = new Float64Array(n), a = 0, b = 0;
        for (var i = 0; i < n; i++) { a += d.lat[i]; b += d.lon[i]; lat[i] = a * q; lon[i] = b * q; }
        f.points[d.kind] = {lat: lat, lon: lon};
      }
      return f.points[d.kind];
    }

    function projected(d, z) {  // absolute pixels at zoom z, once per layer and zoom
      var p = f.proj[d.kind];
      if (!p || p.z !== z) {
        var pts = decoded(d), n = pts.lat.length, x = new Float64Array(n), y = new Float64Array(n);
        for (var i = 0; i < n; i++) {
          var pt = map.project([pts.lat[i], pts.lon[i]], z); x[i] = pt.x; y[i] = pt.y;
        }
        p = f.proj[d.kind] = {z: z, x: x, y: y};
      }
      return p;
    }

    function radius(d) {  // smaller when zoomed out, where the points crowd
      var z = map.getZoom();
      return d.radius * (z >= 9 ? 1 : z >= 7 ? 0.8 : 0.6);
    }

    function redraw() {
      var size = map.getSize(), dpr = window.devicePixelRatio || 1, any = false;
      f.hits = [];
      layers.forEach(function (d) { f.drawn[d.kind] = 0; any = any || !!f.on[d.kind]; });
      canvas.style.display = any ? '' : 'none';
      if (any) {
        canvas.width = Math.round(size.x * dpr); canvas.height = Math.round(size.y * dpr);
        canvas.style.width = size.x + 'px'; canvas.style.height = size.y + 'px';
        L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
        var ctx = canvas.getContext('2d'), z = map.getZoom(), tl = map.getPixelBounds().min;
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.clearRect(0, 0, size.x, size.y);
        layers.forEach(function (d, k) {  // in the base's order: the rarest kind last, on top
          if (!f.on[d.kind] || !d.lat) { return; }  // (the app sends a kind's points when first shown)
          var p = projected(d, z), r = f.radii[d.kind] = radius(d), n = 0;
          ctx.fillStyle = d.fill; ctx.strokeStyle = d.stroke; ctx.lineWidth = d.weight;
          for (var i = 0; i < p.x.length; i++) {
            var x = p.x[i] - tl.x, y = p.y[i] - tl.y;
            if (x < -r || y < -r || x > size.x + r || y > size.y + r) { continue; }
            shapePath(ctx, d.shape, x, y, r);
            ctx.fill(); ctx.stroke();
            f.hits.push([x, y, k, i, r]);
            n++;
          }
          f.drawn[d.kind] = n;
        });
      }
      canvas.style.visibility = '';
      var shown = layers.filter(function (d) { return f.on[d.kind]; }).map(function (d) { return d.kind; });
      map.getContainer().setAttribute('data-geoapp-facilities', shown.join(','));
      legend(shown);
    }

    function legend(shown) {
      if (!shown.length) {
        if (f.box) { f.box.remove(); f.box = null; }
        return;
      }
      if (!f.box) {
        f.box = L.control({position: 'bottomright'});
        f.box.onAdd = function () {
          var div = el('div', 'geoapp-box geoapp-facilities');
          L.DomEvent.disableClickPropagation(div);
          return div;
        };
        f.box.addTo(map);
      }
      var div = f.box.getContainer(), sources = [];
      div.replaceChildren(el('div', 'geoapp-title', '施設'));
      layers.forEach(function (d) {
        if (!f.on[d.kind]) { return; }
        var row = el('div', 'row'), text = el('div');
        row.appendChild(swatch(d));
        text.appendChild(el('div', 'name', d.name));
        text.appendChild(el('div', 'note', d.note));
        row.appendChild(text);
        div.appendChild(row);
        d.sources.forEach(function (s) { if (sources.indexOf(s) < 0) { sources.push(s); } });
      });
      sources.forEach(function (s) { div.appendChild(el('div', 'src', s)); });
    }

    function hit(pt) {  // the point under the mouse: the last drawn (topmost) within its radius + 3 px
      for (var j = f.hits.length - 1; j >= 0; j--) {
        var c = f.hits[j], dx = c[0] - pt.x, dy = c[1] - pt.y, r = c[4] + 3;
        if (dx * dx + dy * dy <= r * r) { return c; }
      }
      return null;
    }

    function show(e) {
      var t = e.originalEvent && e.originalEvent.target, onHub = t && t.closest && t.closest('.geoapp-hub');
      var c = f.hits.length && !onHub ? hit(e.containerPoint) : null, box = map.getContainer();
      if (!c) {
        box.classList.remove('geoapp-fac-hover');
        if (f.tip) { map.closeTooltip(f.tip); }
        return;
      }
      var d = layers[c[2]], pts = decoded(d), content = el('div');
      content.appendChild(el('div', 'name', d.names[c[3]]));
      content.appendChild(el('div', 'kind', d.label));
      if (!f.tip) {
        f.tip = L.tooltip({direction: 'top', offset: [0, -6], className: 'geoapp-fac-tip', opacity: 0.95});
      }
      f.tip.setLatLng([pts.lat[c[3]], pts.lon[c[3]]]).setContent(content);
      if (!map.hasLayer(f.tip)) { map.openTooltip(f.tip); }
      box.classList.add('geoapp-fac-hover');
    }

    layers.forEach(function (d) {
      var g = f.groups[d.kind] = L.layerGroup();
      g.on('add', function () { f.on[d.kind] = true; redraw(); });
      g.on('remove', function () { f.on[d.kind] = false; redraw(); if (f.tip) { map.closeTooltip(f.tip); } });
    });
    f.redraw = redraw;
    f.onZoomStart = function () { canvas.style.visibility = 'hidden'; };  // no stale scale while Leaflet animates
    f.onMove = show;
    f.onOut = function () { map.getContainer().classList.remove('geoapp-fac-hover'); if (f.tip) { map.closeTooltip(f.tip); } };
    map.on('zoomstart', f.onZoomStart);
    map.on('moveend zoomend resize viewreset', redraw);
    map.on('mousemove click', show);
    map.on('mouseout', f.onOut);
    redraw();
    return f;
  }

  // Switch the facility layers to exactly `kinds` (the app's control); the others are taken off.
  function showFacilities(h, kinds) {
    var f = h.facilities, want = {};
    (kinds || []).forEach(function (k) { want[k] = true; });
    f.layers.forEach(function (d) {
      var g = f.groups[d.kind], has = h.map.hasLayer(g);
      if (want[d.kind] && !has) { g.addTo(h.map); }
      if (!want[d.kind] && has) { h.map.removeLayer(g); }
    });
    return h;
  }

  function detach(h) {
    h.map.off('zoomend moveend resize', h.declutter);
    var f = h.facilities;
    if (f && f.redraw) {
      h.map.off('zoomstart', f.onZoomStart);
      h.map.off('moveend zoomend resize viewreset', f.redraw);
      h.map.off('mousemove click', f.onMove);
      h.map.off('mouseout', f.onOut);
    }
  }

  root.GeoAppLive = {attach: attach, apply: apply, detach: detach, declutter: declutter, showFacilities: showFacilities};
})(typeof window !== 'undefined' ? window : this);
