import { STORAGE_KEY } from './config.js';

// ---------------------------------------------------------------- storage

export function readStoredConversation() {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
    if (value && typeof value.id === 'string' && typeof value.token === 'string') return { id: value.id, token: value.token };
  } catch {
    // storage disabled or corrupt: behave as if nothing was stored
  }
  return null;
}

export function storeConversation(conversation) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(conversation));
  } catch {
    // private mode: the conversation just won't survive a reload
  }
}

export function forgetConversation() {
  try {
    localStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}
