#!/usr/bin/env bash
# Vendor the browser assets of folium and the Leaflet plugins hazmap uses into static/vendor/, so the map loads on an
# intranet with no internet. A developer runs this when folium or a plugin changes version; the files it writes are
# committed, and nothing runs it at app run time. layers/assets.py maps each CDN URL folium names to a file written
# here, and tests/test_offline_assets.py fails when a mapped file is missing.
#
# Every package comes from the npm registry at the version folium's CDN URL names, except where npm has no such
# version: Leaflet.awesome-markers 2.0.2 (npm has 2.0.4, same API), Bootstrap's 3.0.0 glyphicons stylesheet (cut from
# Bootstrap 3.4.1), Leaflet.MousePosition (its npm wrapper, leaflet-mouse-position), and folium's own
# leaflet.awesome.rotate.css (written here: one rotate rule per degree).
set -euo pipefail
cd "$(dirname "$0")/.."

dest=static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$dest"
mkdir -p "$dest"

# unpack SPEC DIR: fetch the npm tarball SPEC (name@version) and unpack it into $work/DIR.
unpack() {
  local tgz
  tgz=$(cd "$work" && npm pack --silent "$1" | tail -n 1)
  mkdir -p "$work/$2"
  tar --warning=no-unknown-keyword -xzf "$work/$tgz" -C "$work/$2" --strip-components=1
  echo "$1" >>"$dest/VERSIONS"
}

# put DIR SRC [TARGET]: copy $work/DIR/SRC to $dest/DIR/TARGET (default: SRC's file name).
put() {
  local target=$dest/$1/${3:-$(basename "$2")}
  mkdir -p "$(dirname "$target")"
  cp "$work/$1/$2" "$target"
}

unpack leaflet@1.9.3 leaflet
put leaflet dist/leaflet.js
put leaflet dist/leaflet.css
for img in layers.png layers-2x.png marker-icon.png marker-icon-2x.png marker-shadow.png; do
  put leaflet "dist/images/$img" "images/$img"
done
put leaflet LICENSE

unpack jquery@3.7.1 jquery
put jquery dist/jquery.min.js
put jquery LICENSE.txt

unpack bootstrap@5.2.2 bootstrap
put bootstrap dist/js/bootstrap.bundle.min.js
put bootstrap dist/css/bootstrap.min.css
put bootstrap LICENSE

# Bootstrap 3.0.0's separate glyphicons stylesheet is not on npm: keep the glyphicon rules of Bootstrap 3.4.1 and its
# woff2 font (every browser that runs Leaflet 1.9 reads woff2).
unpack bootstrap@3.4.1 bootstrap-glyphicons
mkdir -p "$dest/bootstrap-glyphicons/fonts"
{
  echo "/* Glyphicons rules of Bootstrap 3.4.1 (MIT, see LICENSE), cut by scripts/vendor_assets.sh. */"
  echo '@font-face { font-family: "Glyphicons Halflings";'
  echo '  src: url("fonts/glyphicons-halflings-regular.woff2") format("woff2"); }'
  awk '/^\.glyphicon \{/ { on = 1 } /^\* \{/ { on = 0 } on' "$work/bootstrap-glyphicons/dist/css/bootstrap.css"
} >"$dest/bootstrap-glyphicons/bootstrap-glyphicons.css"
put bootstrap-glyphicons dist/fonts/glyphicons-halflings-regular.woff2 fonts/glyphicons-halflings-regular.woff2
put bootstrap-glyphicons LICENSE

unpack leaflet.awesome-markers@2.0.4 leaflet.awesome-markers
put leaflet.awesome-markers dist/leaflet.awesome-markers.js
put leaflet.awesome-markers dist/leaflet.awesome-markers.css
for img in markers-soft.png markers-soft@2x.png markers-shadow.png markers-shadow@2x.png; do
  put leaflet.awesome-markers "dist/images/$img" "images/$img"
done
put leaflet.awesome-markers LICENSE

# Font Awesome: the stylesheet and the woff2 fonts only; the truetype fallbacks it names are dropped from the CSS.
unpack @fortawesome/fontawesome-free@6.2.0 fontawesome-free
put fontawesome-free css/all.min.css css/all.min.css
sed -i -E 's/,url\(\.\.\/webfonts\/[a-z0-9-]+\.ttf\) format\("truetype"\)//g' "$dest/fontawesome-free/css/all.min.css"
for font in "$work"/fontawesome-free/webfonts/*.woff2; do
  put fontawesome-free "webfonts/$(basename "$font")" "webfonts/$(basename "$font")"
done
put fontawesome-free LICENSE.txt

mkdir -p "$dest/folium"
{
  echo "/* Rotation classes for folium.Icon(angle=...), written by scripts/vendor_assets.sh. */"
  for angle in $(seq 0 359); do
    printf '.fa-rotate-%d{transform:rotate(%ddeg)}\n' "$angle" "$angle"
  done
} >"$dest/folium/leaflet.awesome.rotate.css"

unpack leaflet.markercluster@1.1.0 leaflet.markercluster
put leaflet.markercluster dist/leaflet.markercluster.js
put leaflet.markercluster dist/MarkerCluster.css
put leaflet.markercluster dist/MarkerCluster.Default.css
put leaflet.markercluster MIT-LICENCE.txt

unpack leaflet.fullscreen@3.0.0 leaflet.fullscreen
put leaflet.fullscreen Control.FullScreen.js
put leaflet.fullscreen Control.FullScreen.css
put leaflet.fullscreen icon-fullscreen.svg
put leaflet.fullscreen LICENSE

unpack leaflet-measure@2.1.7 leaflet-measure
put leaflet-measure dist/leaflet-measure.min.js
put leaflet-measure dist/leaflet-measure.css
for img in "$work"/leaflet-measure/dist/images/*.png; do
  put leaflet-measure "dist/images/$(basename "$img")" "images/$(basename "$img")"
done
put leaflet-measure LICENSE

unpack leaflet-minimap@3.6.1 leaflet-minimap
put leaflet-minimap dist/Control.MiniMap.min.js
put leaflet-minimap dist/Control.MiniMap.min.css
put leaflet-minimap dist/images/toggle.png images/toggle.png
put leaflet-minimap dist/images/toggle.svg images/toggle.svg
put leaflet-minimap LICENSE.txt

unpack leaflet-mouse-position@1.2.0 leaflet-mouse-position
put leaflet-mouse-position src/L.Control.MousePosition.js
put leaflet-mouse-position src/L.Control.MousePosition.css
put leaflet-mouse-position MIT-LICENCE.txt

# The leaflet-draw tarball ships no licence file; its package.json says MIT and this is the repository's MIT-LICENSE.md.
unpack leaflet-draw@1.0.2 leaflet-draw
put leaflet-draw dist/leaflet.draw.js
put leaflet-draw dist/leaflet.draw.css
for img in spritesheet.png spritesheet-2x.png spritesheet.svg; do
  put leaflet-draw "dist/images/$img" "images/$img"
done
cat >"$dest/leaflet-draw/LICENSE" <<'EOF'
Copyright 2012-2016 Jacob Toye and Leaflet

Permission is hereby granted, free of charge, to any person obtaining
a copy of this software and associated documentation files (the
"Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to
permit persons to whom the Software is furnished to do so, subject to
the following conditions:

The above copyright notice and this permission notice shall be
included in all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE
LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
EOF

unpack leaflet-textpath@1.2.3 leaflet-textpath
put leaflet-textpath leaflet.textpath.js
put leaflet-textpath LICENSE

unpack leaflet-ant-path@1.1.2 leaflet-ant-path
put leaflet-ant-path dist/leaflet-ant-path.js
put leaflet-ant-path LICENSE

# Source maps are not vendored: drop the comments that point at them, so browser tools request nothing missing. The
# patterns are anchored to a .map file name at the end of a line: bundled code may build such comments in strings.
find "$dest" \( -name '*.js' -o -name '*.css' \) -exec sed -i -E \
  -e 's@^//# sourceMappingURL=[A-Za-z0-9._-]+\.map$@@' -e 's@/\*# sourceMappingURL=[A-Za-z0-9._-]+\.map \*/$@@' {} +

# The map page's scripts joined in one file (see layers.assets.BUNDLE).
python -c "from layers.assets import write_bundle; print(write_bundle())"

echo "vendored into $dest: $(du -sh "$dest" | cut -f1)"
