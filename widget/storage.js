import { PREVIOUS_STORAGE_KEY, STORAGE_KEY } from './config.js';

// ---------------------------------------------------------------- storage

export function readStoredConversation(key = STORAGE_KEY) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || 'null');
    if (value && typeof value.id === 'string' && typeof value.token === 'string') return { id: value.id, token: value.token };
  } catch {
    // storage disabled or corrupt: behave as if nothing was stored
  }
  return null;
}

export function storeConversation(conversation, key = STORAGE_KEY) {
  try {
    localStorage.setItem(key, JSON.stringify(conversation));
  } catch {
    // private mode: the conversation just won't survive a reload
  }
}

export function forgetConversation(key = STORAGE_KEY) {
  try {
    localStorage.removeItem(key);
  } catch {
    // nothing stored
  }
}

// One conversation back: the one the user left with "新对话", shown read-only above the current one.
export const readPreviousConversation = () => readStoredConversation(PREVIOUS_STORAGE_KEY);
export const storePreviousConversation = (conversation) => storeConversation(conversation, PREVIOUS_STORAGE_KEY);
export const forgetPreviousConversation = () => forgetConversation(PREVIOUS_STORAGE_KEY);
