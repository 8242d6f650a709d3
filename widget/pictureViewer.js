import { el, keepKeysInside } from './dom.js';
import { closeIcon } from './icons.js';
import { t } from './labels.js';
import { drawStepPicture, pictureDescription } from './stepPictures.js';
import { ui } from './state.js';

// ---------------------------------------------------------------- a step picture, enlarged

/**
 * The picture inside a step's message, tapped: it opens over the panel as large as the panel allows
 * (on a phone the whole screen), with its description as the caption. Any tap, Esc or the close
 * button puts it away and gives the focus back to the thumbnail, as photo viewers in chat apps do.
 */
export function openPicture(name, thumbnail) {
  closePicture();
  const picture = drawStepPicture(name, 'wub-viewer-svg');
  if (!picture) return;
  const captionId = 'wub-viewer-caption';
  const closeButton = el('button', { type: 'button', class: 'wub-viewer-close', 'data-testid': 'wub-viewer-close', 'aria-label': t('ui.widget.picture.close') }, [
    closeIcon(),
  ]);
  const viewer = el(
    'div',
    { class: 'wub-viewer', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': captionId, 'data-testid': 'wub-viewer', 'data-picture': name },
    [
      closeButton,
      el('figure', { class: 'wub-viewer-figure' }, [
        picture,
        el('figcaption', { id: captionId, class: 'wub-viewer-caption', text: pictureDescription(name) }),
      ]),
    ],
  );
  const dismiss = () => {
    closePicture();
    if (thumbnail.isConnected) thumbnail.focus({ preventScroll: true });
  };
  viewer.addEventListener('click', dismiss);
  // The close button is all there is to reach while the picture is open.
  keepKeysInside(viewer, [closeButton], dismiss);
  ui.viewer = viewer;
  ui.panel.append(viewer);
  closeButton.focus({ preventScroll: true });
}

export function closePicture() {
  if (!ui.viewer) return;
  ui.viewer.remove();
  ui.viewer = null;
}

/** The thumbnail that goes inside a step's message; null for a picture this widget cannot draw. */
export function pictureThumbnail(name) {
  const picture = drawStepPicture(name, 'wub-picture-svg');
  if (!picture) return null;
  // The button names what it opens; the drawing's own description would be read twice.
  picture.setAttribute('aria-hidden', 'true');
  picture.removeAttribute('role');
  const thumbnail = el(
    'button',
    { type: 'button', class: 'wub-picture', 'data-testid': 'wub-picture', 'data-picture': name, 'aria-label': t('ui.widget.picture.open', { description: pictureDescription(name) }) },
    [picture, el('span', { class: 'wub-picture-hint', 'aria-hidden': 'true', text: t('ui.widget.picture.enlarge') })],
  );
  thumbnail.addEventListener('click', () => openPicture(name, thumbnail));
  return thumbnail;
}
